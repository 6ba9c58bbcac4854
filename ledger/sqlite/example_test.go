package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
)

// A run claims a line, marks it sending before any byte leaves, and records
// the outcome; a second run skips it.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "ledger-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "manifest.jsonl.ledger.db")
	it := ledger.Item{MessageID: "6a1f0f63-5a5e-5d3e-9d43-0c1f3c1b7e2a", SourceID: "clinic-7731-letter", Line: 1, Hash: "9f86d081"}

	l, _ := sqlite.Open(ctx, path, sqlite.Options{})
	d, _ := l.Claim(ctx, it, ledger.ClaimOptions{})
	fmt.Println("first run:", d.Action)
	attempts, _ := l.MarkSending(ctx, it.MessageID, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae") // SHA-256 of the payload
	l.Finish(ctx, it.MessageID, ledger.Outcome{State: ledger.Sent, StatusEndpoint: "https://example.org/api/v1/messages/x/status"})
	fmt.Println("attempts:", attempts)
	l.Close()

	l, _ = sqlite.Open(ctx, path, sqlite.Options{})
	defer l.Close()
	d, _ = l.Claim(ctx, it, ledger.ClaimOptions{})
	fmt.Println("second run:", d.Action, "-", d.Reason)
	s, _ := l.Stats(ctx)
	fmt.Println("sent:", s[ledger.Sent])
	// Output:
	// first run: process
	// attempts: 1
	// second run: skip - already sent
	// sent: 1
}
