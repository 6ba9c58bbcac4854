package transport_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// Send a message to the simulator; a first 503 is retried with the same
// messageId and the simulator stores the message once.
func ExampleClient_Send() {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	sim.FailNext(1, 503, "0") // MESH unavailable once, "retry now"

	c, err := transport.New(transport.Options{BaseURL: sim.URL, APIKey: sim.APIKey()})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	msg := conneqttest.SampleMessage(conneqt.GPConnect)
	body := transport.BytesPayload(conneqttest.Marshal(msg)) // the assemble stage's output
	res, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), msg.MessageID, body)
	if err != nil {
		panic(err)
	}
	fmt.Println("attempts:", res.Attempts)
	fmt.Println("endpoint:", strings.Replace(res.StatusEndpoint, msg.MessageID, "{id}", 1)[len(sim.URL):])
	fmt.Println("stored:", sim.Stats().Accepted)
	// Output:
	// attempts: 2
	// endpoint: /api/v1/gpconnect/messages/{id}/status
	// stored: 1
}

// Classify tells a ledger what to record for each outcome.
func ExampleClassify() {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	c, _ := transport.New(transport.Options{BaseURL: sim.URL, APIKey: sim.APIKey(), MaxAttempts: 1})

	msg := conneqttest.SampleMessage(conneqt.Standard)
	msg.Body.MIMEType = "text/html" // the standard route takes text/plain only
	_, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), msg.MessageID,
		transport.BytesPayload(conneqttest.Marshal(msg)))

	fmt.Println(conneqt.Classify(err))
	var ve *conneqt.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p.Name+":", p.Reason)
		}
	}
	// Output:
	// invalid
	// body.mimeType: must be 'text/plain' on the standard route
}
