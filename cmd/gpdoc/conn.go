package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// connFlags are the flags that name the service and its credentials:
// every command that talks to conneQt has them (check, topics, token, and
// backfill and send through deliverFlags).
type connFlags struct {
	url         string
	apiKey      string
	accessToken string
	sim         bool
}

func (f *connFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "conneQt base URL, e.g. https://int.conneqt.health (env CONNEQT_URL)")
	fl.StringVar(&f.apiKey, "api-key", "", "conneQt ApiKey (env CONNEQT_API_KEY; prefer the environment: flags show in ps)")
	fl.StringVar(&f.accessToken, "access-token", "", "AccessToken for instant messages (env CONNEQT_ACCESS_TOKEN)")
	fl.BoolVar(&f.sim, "sim", false, "start the built-in simulator in this process and use it")
}

// resolve returns the base URL, API key and access token the flags give,
// each taken from the environment when its flag is empty (the URL only
// without --sim).
func (f *connFlags) resolve() (base, key, token string) {
	base, key, token = f.url, f.apiKey, f.accessToken
	if base == "" && !f.sim {
		base = os.Getenv("CONNEQT_URL")
	}
	if key == "" {
		key = os.Getenv("CONNEQT_API_KEY")
	}
	if token == "" {
		token = os.Getenv("CONNEQT_ACCESS_TOKEN")
	}
	return base, key, token
}

// startInProcessSim starts the in-process simulator (for --sim) and says where it
// listens. Its own key and a token it granted replace the environment's.
func startInProcessSim(stderr io.Writer) (sim *conneqttest.Server, base, key, token string) {
	sim = conneqttest.NewServer(conneqttest.Options{})
	fmt.Fprintf(stderr, "gpdoc: simulator listening on %s\n", sim.URL)
	return sim, sim.URL, sim.APIKey(), sim.GrantAccessToken()
}

// open returns a client for the flags and the environment, and a function
// that releases it (and the simulator, with --sim).
func (f *connFlags) open(stderr io.Writer) (*transport.Client, func(), error) {
	base, key, token := f.resolve()
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if f.sim {
		if f.url != "" {
			return nil, nil, usageError("give --url or --sim, not both")
		}
		var sim *conneqttest.Server
		sim, base, key, token = startInProcessSim(stderr)
		closers = append(closers, sim.Close)
	}
	if base == "" {
		return nil, nil, usageError("no service: give --url (or CONNEQT_URL), or --sim")
	}
	if key == "" {
		closeAll()
		return nil, nil, usageError("no API key: set CONNEQT_API_KEY or --api-key")
	}
	c, err := transport.New(transport.Options{BaseURL: base, APIKey: key, AccessToken: token, Logger: commandLogger(stderr)})
	if err != nil {
		closeAll()
		return nil, nil, withCode(exitUsage, err)
	}
	closers = append(closers, c.Close)
	return c, closeAll, nil
}
