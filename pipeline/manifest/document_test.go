package manifest

import (
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
)

func TestNewDocument(t *testing.T) {
	msg := func() *conneqt.Message {
		return &conneqt.Message{Topic: "Health", Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "G00001"}},
			Attachments: []*conneqt.Attachment{{FileName: "a.txt", MIMEType: "text/plain", Data: []byte("a")}}}
	}
	tests := []struct {
		name      string
		route     conneqt.RouteName
		sourceID  string
		msg       *conneqt.Message
		wantErr   bool
		wantID    string
		wantType  string
		wantRecip string
	}{
		{"derived id", conneqt.Standard, "s-1", msg(), false, DeriveMessageID("s-1"), "", "OcsClientIdentifier"},
		{"own id kept", conneqt.Standard, "s-1", &conneqt.Message{MessageID: "own"}, false, "own", "", ""},
		{"instant type", conneqt.Instant, "s-2", msg(), false, DeriveMessageID("s-2"), "", "OcsClientIdentifier"},
		{"no ids", conneqt.Standard, "", msg(), true, "", "", ""},
		{"unknown route", "fax", "s-1", msg(), true, "", "", ""},
		{"no message", conneqt.Standard, "s-1", nil, true, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := NewDocument(tt.route, tt.sourceID, tt.msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			m := doc.Message
			if m.MessageID != tt.wantID || m.Type != doc.Route.MessageType || doc.SourceID != tt.sourceID {
				t.Fatalf("%+v", m)
			}
			if tt.wantRecip != "" && m.Recipient.ID.Type != tt.wantRecip {
				t.Fatalf("recipient type %q", m.Recipient.ID.Type)
			}
		})
	}
}

func TestDocumentHash(t *testing.T) {
	build := func(content string, path string) string {
		doc, err := NewDocument(conneqt.Standard, "s-1", &conneqt.Message{Topic: "Health",
			Attachments: []*conneqt.Attachment{{FileName: "a.txt", MIMEType: "text/plain", Data: []byte(content), Path: path}}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := DocumentHash(doc)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a := build("a", "")
	if a != build("a", "") || len(a) != 64 {
		t.Fatal("the same document hashes differently")
	}
	if a == build("b", "") || a == build("a", "x.txt") {
		t.Fatal("a changed document hashes the same")
	}
}
