package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"os"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/postgres"
)

// A worker of a fleet claims a batch of manifest lines, processes those it
// gets, and leaves those another live worker holds (busy) for a later pass.
// (No output is checked: the example needs a server.)
func ExampleLedger_ClaimBatch() {
	ctx := context.Background()
	l, err := postgres.Open(ctx, os.Getenv("GPDOC_LEDGER"), postgres.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close() // releases the leases of lines claimed and not finished

	batch := []ledger.Item{
		{MessageID: "6a1f0f63-5a5e-5d3e-9d43-0c1f3c1b7e2a", Line: 1, Hash: "9f86d081"},
		{MessageID: "0b7e4c55-1d0e-5b8a-8a8e-2f7c9d1e3a40", Line: 2, Hash: "60303ae2"},
	}
	ds, err := l.ClaimBatch(ctx, batch, ledger.ClaimOptions{})
	if err != nil {
		log.Fatal(err)
	}
	busy := 0
	for i, d := range ds {
		switch d.Action {
		case ledger.Busy:
			busy++ // another worker holds it: not final, look again later
		case ledger.Process:
			id := batch[i].MessageID
			body := []byte(`{"messageId":"` + id + `"}`) // the assembled message
			sum := sha256.Sum256(body)
			if _, err := l.MarkSending(ctx, id, hex.EncodeToString(sum[:])); err != nil {
				log.Fatal(err) // ledger.ErrLeaseLost: another worker took it over; or other bytes than a resend must carry
			}
			// ... send it ...
			if err := l.Finish(ctx, id, ledger.Outcome{State: ledger.Sent}); err != nil {
				log.Fatal(err)
			}
		}
	}
	fmt.Println("busy:", busy)
}
