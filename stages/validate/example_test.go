package validate_test

import (
	"fmt"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// CheckMessage judges a final wire message as the service would; the
// conneQt simulator uses it this way.
func ExampleCheckMessage() {
	msg := &conneqt.Message{
		MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197",
		Type:      "ToolbarInstantMessage",
		Topic:     "DispenseEventNotification",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "GPPRAC001", Type: conneqt.IDOcsClient}},
		Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "4857773456", Type: conneqt.IDVerifiedNHSNumber}},
		Body:      &conneqt.Body{MIMEType: "application/pdf", Content: "Dispense notification"},
		Attachments: []*conneqt.Attachment{
			{FileName: "notes?.txt", MIMEType: conneqt.MIMEText, Data: []byte("Paracetamol 500 mg")},
		},
	}
	now := func() time.Time { return time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) }
	problems, _ := validate.CheckMessage(conneqt.MustRoute(conneqt.Instant), msg, validate.Options{Now: now})
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// attachments[0].fileName: must be a valid Windows file name: contains a character Windows does not allow (< > : " / \ | ? *): ? (got "notes?.txt")
	// body.mimeType: must be 'text/plain' or 'text/html' on the instant route (got "application/pdf")
	// subject.id.value: not a valid NHS number: the Modulus 11 check digit is wrong (got "485***3456")
}

// The stage runs in a pipeline's check phase; it leaves what the sanitise
// stage fixes (file names, say) to it.
func ExampleNew() {
	s, err := validate.New(validate.Options{})
	if err != nil {
		panic(err)
	}
	p := pipeline.Pipeline{s}
	fmt.Println(p.Names(), p.Validate())
	// Output: [validate] <nil>
}
