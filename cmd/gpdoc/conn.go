package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// connFlags are the flags of the commands that talk to the service without
// sending messages (check, topics, token).
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
	fl.BoolVar(&f.sim, "sim", false, "start the built-in simulator in this process and talk to it")
}

// open returns a client for the flags and the environment, and a function
// that releases it (and the simulator, with --sim).
func (f *connFlags) open(stderr io.Writer) (*transport.Client, func(), error) {
	base, key, token := f.url, f.apiKey, f.accessToken
	if base == "" {
		base = os.Getenv("CONNEQT_URL")
	}
	if key == "" {
		key = os.Getenv("CONNEQT_API_KEY")
	}
	if token == "" {
		token = os.Getenv("CONNEQT_ACCESS_TOKEN")
	}
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
		sim := conneqttest.NewServer(conneqttest.Options{})
		closers = append(closers, sim.Close)
		base, key = sim.URL, sim.APIKey()
		if token == "" {
			token = sim.GrantAccessToken()
		}
		fmt.Fprintf(stderr, "gpdoc: simulator listening on %s\n", base)
	}
	if base == "" {
		return nil, nil, usageError("no service: give --url (or CONNEQT_URL), or --sim")
	}
	if key == "" {
		closeAll()
		return nil, nil, usageError("no API key: set CONNEQT_API_KEY or --api-key")
	}
	c, err := transport.New(transport.Options{BaseURL: base, APIKey: key, AccessToken: token})
	if err != nil {
		closeAll()
		return nil, nil, withCode(exitUsage, err)
	}
	closers = append(closers, c.Close)
	return c, closeAll, nil
}
