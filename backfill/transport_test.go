package backfill

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	assemblestage "github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// TestRunTransport runs the real assemble and send stages against the
// simulator: lost responses are retried by the client and de-duplicated by
// the service; a forced stop while the service is slow leaves the messages
// sending, and the next run sends them again with the same messageId.
func TestRunTransport(t *testing.T) {
	const n = 6
	srv := conneqttest.NewServer(conneqttest.Options{})
	defer srv.Close()
	client, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: srv.APIKey(),
		InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	p := pipeline.Pipeline{assemblestage.NewStage(), send.New(client)}
	text := testManifest(n)
	var db store

	// A forced stop while every request hangs.
	srv.SetFaults(conneqttest.Faults{Latency: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	l := db.open()
	s, err := Run(ctx, Config{Manifest: strings.NewReader(text), Pipeline: p, Ledger: l, Concurrency: n})
	if err == nil || s.Abandoned != n || s.Sent != 0 {
		t.Fatalf("forced stop: %+v %v", s, err)
	}
	for i := range n {
		e, err := l.Get(context.Background(), manifest.DeriveMessageID(testSource(i)))
		if err != nil || e.State != ledger.Sending || e.Attempts != 1 {
			t.Fatalf("after the forced stop: %+v %v", e, err)
		}
	}

	// The next run: a third of the answers are lost after the message is
	// stored; the client retries them.
	srv.SetFaults(conneqttest.Faults{Seed: 7, ErrorRate: 0.3, AfterStoreRate: 1})
	s, err = Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: p, Ledger: db.open(), Concurrency: 3})
	if err != nil || !s.OK() || s.Sent != n || s.Resent != n {
		t.Fatalf("re-run: %+v %v", s, err)
	}
	st := srv.Stats()
	if st.Accepted != n || st.Conflicts != 0 || st.LostResponses == 0 || st.Duplicates < st.LostResponses {
		t.Fatalf("simulator %+v", st)
	}
	for _, a := range srv.Accepted() {
		if !strings.HasPrefix(a.Message.Attachments[0].FileName, "note") {
			t.Fatalf("accepted %+v", a.Message)
		}
	}
}

func testSource(i int) string { return "src-" + strconv.Itoa(i) }
