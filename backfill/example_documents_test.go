package backfill_test

import (
	"context"
	"fmt"
	"iter"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/stages"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// letter is a record of some sending system, to be converted.
type letter struct {
	ID, Practice, NHSNumber, Text string
}

// converted turns the sending system's records into documents, one at a
// time, without writing a manifest: manifest.NewDocument fills the type from
// the route and derives the messageId from the record's id, so a re-run
// sends the same ids.
func converted(letters []letter) iter.Seq[*pipeline.Document] {
	return func(yield func(*pipeline.Document) bool) {
		for _, l := range letters {
			doc, err := manifest.NewDocument(conneqt.Standard, "letters-"+l.ID, &conneqt.Message{
				Topic:       "Health",
				Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: l.Practice}},
				Subject:     conneqt.Party{ID: conneqt.Identifier{Value: l.NHSNumber, Type: "VerifiedNhsNumber"}},
				Body:        &conneqt.Body{MIMEType: "text/plain", Content: "Letter " + l.ID},
				Attachments: []*conneqt.Attachment{{FileName: "Letter " + l.ID + ".txt", MIMEType: "text/plain", Data: []byte(l.Text)}},
			})
			if err != nil {
				continue // a real converter would report it
			}
			if !yield(doc) {
				return
			}
		}
	}
}

// A batch converter that sends documents it holds in memory, exactly once,
// with gpdoc's pipeline and the ledger's re-run rules (here against the
// simulator, with an in-memory ledger; gpdoc keeps an SQLite file).
func ExampleRun_documents() {
	ctx := context.Background()
	srv := conneqttest.NewServer(conneqttest.Options{})
	defer srv.Close()
	client, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: srv.APIKey()})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	p, err := stages.Default(stages.Options{Sender: client})
	if err != nil {
		panic(err)
	}
	letters := []letter{
		{"1001", "G00001", "9434765919", "Discharged home, review in 2 weeks."},
		{"1002", "G00001", "9547852140", "Blood results normal."},
	}
	l := ledger.NewMemory()
	for range 2 { // the second run finds both sent and sends nothing
		s, err := backfill.Run(ctx, backfill.Config{Documents: converted(letters), Pipeline: p, Ledger: l})
		fmt.Println(err, "sent", s.Sent, "skipped", s.Skipped)
		l = l.NewRun()
	}
	fmt.Println("the service holds", srv.Stats().Accepted)
	// Output:
	// <nil> sent 2 skipped 0
	// <nil> sent 0 skipped 2
	// the service holds 2
}
