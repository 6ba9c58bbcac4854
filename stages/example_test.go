package stages_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/stages"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// The library in a few lines: read a manifest, run each message through
// gpdoc's default pipeline and deliver it (here to the built-in simulator).
func Example() {
	ctx := context.Background()
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()

	client, _ := transport.New(transport.Options{BaseURL: sim.URL, APIKey: sim.APIKey(),
		AccessToken: sim.GrantAccessToken()})
	p, _ := stages.Default(stages.Options{Sender: client})
	runner := &pipeline.Runner{Stages: p}

	f, _ := os.Open("../testdata/examples/manifest.jsonl")
	defer f.Close()
	for line := range manifest.Read(ctx, f, "../testdata/examples") {
		err := runner.Process(ctx, line.Doc)
		fmt.Println(line.Doc.Route.Name, len(line.Doc.Message.Attachments), "attachment(s), error:", err)
	}
	fmt.Println("accepted by the service:", sim.Stats().Accepted)
	// Output:
	// standard 2 attachment(s), error: <nil>
	// instant 1 attachment(s), error: <nil>
	// gpconnect 1 attachment(s), error: <nil>
	// accepted by the service: 3
}
