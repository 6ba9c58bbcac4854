package conneqttest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/gpdoc/gpdoc/pipeline"
)

// SamplePDF is a tiny, valid one-page PDF for tests (the simulator parses
// PDFs as strictly as gpdoc's validate stage does).
var SamplePDF = MinimalPDF("Consultation summary")

// MinimalPDF returns a valid one-page PDF 1.4 that shows text (ASCII without
// parentheses or backslashes) in Helvetica, with a correct cross-reference
// table.
func MinimalPDF(text string) []byte {
	content := "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET"
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// SampleMessage returns a small message that the simulator accepts on
// route, with a fresh messageId: test data for clients of the simulator.
func SampleMessage(route pipeline.RouteName) *pipeline.Message {
	r := pipeline.MustRoute(route)
	m := &pipeline.Message{
		MessageID: uuid.NewString(),
		Type:      r.MessageType,
		Topic:     "Health",
		Recipient: pipeline.Party{ID: pipeline.Identifier{Value: "G00001", Type: pipeline.IDOcsClient}},
		Subject:   pipeline.Party{ID: pipeline.Identifier{Value: "9434765919", Type: pipeline.IDVerifiedNHSNumber}},
		Body:      &pipeline.Body{MIMEType: pipeline.MIMEText, Content: "Consultation summary for the patient's record"},
		Attachments: []*pipeline.Attachment{
			{FileName: "Consultation summary.pdf", MIMEType: pipeline.MIMEPDF, Data: SamplePDF},
		},
	}
	if route == pipeline.GPConnect {
		conf := false
		m.Topic = "ConsultationSummary"
		m.Recipient.ID = pipeline.Identifier{Value: "B86057", Type: pipeline.IDOdsOrganisation}
		m.GPConnectAdditionalInformation = &pipeline.GPConnectInfo{
			RecipientType:   "For Information",
			SenderReference: "Consultation-" + m.MessageID,
			Confidentiality: &conf,
			VersionNumber:   1,
			Patient:         pipeline.GPPatient{Name: pipeline.HumanName{Family: "Smith", Given: "John"}, DateOfBirth: "1975-11-20"},
			TypeCode:        "325871000000103",
			TypeDescription: "Remote consultation encounter type (record artifact)",
		}
	} else {
		m.CodedDataItems = []pipeline.CodedDataItem{{Code: "407554009", Value: pipeline.NewNumber(140), Units: "mmHg", AdditionalText: "Sitting systolic blood pressure"}}
	}
	return m
}

// Marshal returns m's wire JSON (a stand-in for gpdoc's assemble stage in
// tests). It panics if m cannot be encoded.
func Marshal(m *pipeline.Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
