package conneqttest_test

import (
	"context"
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// A lost response: the simulator stores the message, then drops the
// connection. The client's retry is answered as a duplicate, with the same
// status endpoint, and the message is stored once.
func ExampleServer_Script() {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	sim.Script(conneqttest.Fault{Drop: true, AfterStore: true})

	c, _ := transport.New(transport.Options{BaseURL: sim.URL, APIKey: sim.APIKey()})
	msg := conneqttest.SampleMessage(conneqt.Standard)
	res, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), msg.MessageID,
		transport.BytesPayload(conneqttest.Marshal(msg)))
	if err != nil {
		panic(err)
	}
	st := sim.Stats()
	fmt.Println("attempts", res.Attempts, "accepted", st.Accepted, "duplicates", st.Duplicates, "dropped", st.Dropped)

	_ = sim.Deliver(msg.MessageID)
	_ = sim.Complete(msg.MessageID)
	status, _ := c.Status(context.Background(), res.StatusEndpoint)
	fmt.Println(status.Status, status.SubStatus, status.Terminal())
	// Output:
	// attempts 2 accepted 1 duplicates 1 dropped 1
	// COMPLETED Imported true
}
