package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// A user inserts a redaction stage of their own between gpdoc's stages and
// runs a document through the pipeline.
func Example() {
	// Stand-ins for gpdoc's stages (the real ones live under stages/).
	validate := pipeline.MessageFunc("validate", func(_ context.Context, d *pipeline.Document) error {
		if d.Message.Topic == "" {
			return conneqt.NewValidationError([]conneqt.Problem{{Name: "topic", Reason: "required"}})
		}
		return nil
	})
	assemble := pipeline.MessageFunc("assemble", func(context.Context, *pipeline.Document) error { return nil })

	// The user's own stage: runs once per attachment, attachments concurrently.
	redact := pipeline.AttachmentFunc("redact", func(_ context.Context, d *pipeline.Document, i int) error {
		a := d.Message.Attachments[i]
		a.Data = []byte(strings.ReplaceAll(string(a.Data), "Smith", "[name]"))
		return nil
	})

	stages, _ := pipeline.Pipeline{validate, assemble}.InsertAfter("validate", redact)
	runner := &pipeline.Runner{Stages: stages, AttachmentConcurrency: 4}

	doc := &pipeline.Document{
		Route: conneqt.MustRoute(conneqt.Standard),
		Message: &conneqt.Message{Topic: "Health", Attachments: []*conneqt.Attachment{
			{FileName: "note.txt", MIMEType: conneqt.MIMEText, Data: []byte("Seen: Mr Smith")},
		}},
	}
	err := runner.Process(context.Background(), doc)
	fmt.Println(stages.Names(), err, string(doc.Message.Attachments[0].Data))

	doc.Message.Topic = ""
	err = runner.Process(context.Background(), doc)
	var invalid *conneqt.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println(invalid.Problems[0])
	}
	// Output:
	// [validate redact assemble] <nil> Seen: Mr [name]
	// topic: required
}
