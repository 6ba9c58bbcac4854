package ledger_test

import (
	"fmt"

	"github.com/gpdoc/gpdoc/ledger"
)

// A crash left a message sending; the line has since changed. The old
// content may be at the service under that messageId, so the changed line
// is a conflict and is not sent.
func ExampleDecide() {
	prev := &ledger.Entry{MessageID: "m1", Hash: "old", State: ledger.Sending, RunID: "run-1"}
	same := ledger.Decide(prev, ledger.Item{MessageID: "m1", Hash: "old"}, "run-2", ledger.ClaimOptions{})
	changed := ledger.Decide(prev, ledger.Item{MessageID: "m1", Hash: "new"}, "run-2", ledger.ClaimOptions{})
	fmt.Println(same.Action, same.Resend)
	fmt.Println(changed.Action)
	// Output:
	// process true
	// conflict
}
