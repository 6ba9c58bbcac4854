package sanitise_test

import (
	"context"
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/sanitise"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// Validate and sanitise a message with a mistyped file name, a UTF-16 note
// and a printed NHS number: everything can be fixed, and every fix is
// reported.
func Example() {
	v, _ := validate.New(validate.Options{})
	s, _ := sanitise.New(sanitise.Options{})
	runner := &pipeline.Runner{Stages: pipeline.Pipeline{v, s}}

	doc := &pipeline.Document{
		Route: conneqt.MustRoute(conneqt.Standard),
		Message: &conneqt.Message{
			MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197", Type: "ToolbarMessage", Topic: "Health",
			Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
			Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "943 476 5919", Type: conneqt.IDVerifiedNHSNumber}},
			Body:      &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Results"},
			Attachments: []*conneqt.Attachment{{
				FileName: "Results: 21/11.", MIMEType: conneqt.MIMEText,
				Data: []byte("\xff\xfeO\x00K\x00\r\x00\n\x00"), // UTF-16LE "OK\r\n"
			}},
		},
	}
	err := runner.Process(context.Background(), doc)
	fmt.Println("error:", err)
	for _, c := range doc.Changes() {
		fmt.Printf("%s: %s %q -> %q %s\n", c.Name, c.Action, c.Before, c.After, c.Detail)
	}
	// Output:
	// error: <nil>
	// attachments[0].content: normalised text "" -> "" converted from UTF-16LE to UTF-8; changed 1 CRLF or CR line ends to LF
	// attachments[0].fileName: renamed "Results: 21/11." -> "Results_ 21_11.txt" not a valid Windows file name; extension missing or not matching the content
	// subject.id.value: normalised "943 *** 5919" -> "943***5919" removed spaces and dashes from the NHS number
}
