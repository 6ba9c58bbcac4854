package assemble_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/assemble"
)

func ExampleNew() {
	msg := &conneqt.Message{
		MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876",
		Topic:     "Health",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
		Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
		Body:      &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Results <attached> & reviewed"},
		Attachments: []*conneqt.Attachment{
			{FileName: "note.txt", MIMEType: conneqt.MIMEText, Data: []byte("BP 140/80")},
		},
	}
	p, err := assemble.New(conneqt.MustRoute(conneqt.Standard), msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Size is known before anything is encoded: use it as Content-Length.
	fmt.Println(p.Size())
	// Each send attempt reads the body afresh.
	if _, err := io.Copy(os.Stdout, p.NewReader()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 406
	// {"messageId":"5fd06ef9-8dfd-41de-af35-0d499fdac876","type":"ToolbarMessage","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"Results \u003cattached\u003e \u0026 reviewed"},"attachments":[{"fileName":"note.txt","mimeType":"text/plain","content":"QlAgMTQwLzgw"}]}
}

func ExampleWriteDir() {
	doc := &pipeline.Document{Route: conneqt.MustRoute(conneqt.Instant), Message: &conneqt.Message{
		MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197",
		Topic:     "DispenseEventNotification",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "GPPRAC001", Type: conneqt.IDOcsClient}},
		Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "9547852140", Type: conneqt.IDVerifiedNHSNumber}},
		Attachments: []*conneqt.Attachment{
			{FileName: "Dispense Notification.pdf", MIMEType: conneqt.MIMEPDF, Data: []byte("%PDF-1.7 ...")},
		},
	}}
	if err := assemble.NewStage().ProcessMessage(context.Background(), doc); err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "dry-run")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path, err := assemble.WriteDir(dir, doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	fi, _ := os.Stat(path)
	fmt.Println(fi.Name(), fi.Size() == doc.Payload.Size())
	// Output:
	// 869c3439-fcb8-4546-b372-2af2bf54e197.json true
}
