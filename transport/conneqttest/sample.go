package conneqttest

import (
	"encoding/json"

	"github.com/google/uuid"

	"github.com/gpdoc/gpdoc/internal/testpdf"
	"github.com/gpdoc/gpdoc/pipeline"
)

// SamplePDF is a tiny, valid one-page PDF for tests (the simulator parses
// PDFs as strictly as gpdoc's validate stage does).
var SamplePDF = testpdf.Text("Consultation summary")

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
