package send_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// The send stage at the end of a pipeline; assemble is faked here.
func Example() {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	client, _ := transport.New(transport.Options{BaseURL: sim.URL, APIKey: sim.APIKey()})

	assemble := pipeline.MessageFunc("assemble", func(_ context.Context, doc *pipeline.Document) error {
		doc.Payload = transport.BytesPayload(conneqttest.Marshal(doc.Message))
		return nil
	})
	runner := &pipeline.Runner{Stages: pipeline.Pipeline{assemble, send.New(client)}}
	doc := &pipeline.Document{Route: conneqt.MustRoute(conneqt.Standard), Message: conneqttest.SampleMessage(conneqt.Standard)}
	err := runner.Process(context.Background(), doc)
	fmt.Println(conneqt.Classify(err), strings.HasSuffix(doc.StatusEndpoint, doc.Message.MessageID+"/status"))
	// Output: sent true
}
