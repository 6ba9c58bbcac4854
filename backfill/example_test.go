package backfill_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Run with a ledger (here in memory; gpdoc keeps an SQLite file): the send stage here only records what it would send;
// gpdoc's is stages/send with a transport.Client.
func ExampleRun() {
	ctx := context.Background()
	l := ledger.NewMemory()

	manifest := `{"route":"standard","sourceId":"letter-1","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"Letter"},"attachments":[{"fileName":"a.txt","mimeType":"text/plain","content":"aGVsbG8="}]}
{"not a message"
`
	send := pipeline.MessageFunc("send", func(_ context.Context, doc *pipeline.Document) error {
		doc.StatusEndpoint = "https://example.org/api/v1/messages/" + doc.Message.MessageID + "/status"
		return nil
	})
	s, err := backfill.Run(ctx, backfill.Config{
		Manifest: strings.NewReader(manifest),
		Pipeline: pipeline.Pipeline{send},
		Ledger:   l,
	})
	fmt.Println(err, s.Sent, s.Invalid, s.OK())
	// Output: <nil> 1 1 false
}
