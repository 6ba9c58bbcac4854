package conneqttest

import (
	"encoding/json"

	"github.com/google/uuid"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/testpdf"
)

// SamplePDF is a tiny, valid one-page PDF for tests (the simulator parses
// PDFs as strictly as gpdoc's validate stage does).
var SamplePDF = testpdf.Text("Consultation summary")

// SampleMessage returns a small message that the simulator accepts on
// route, with a fresh messageId: test data for clients of the simulator.
func SampleMessage(route conneqt.RouteName) *conneqt.Message {
	r := conneqt.MustRoute(route)
	m := &conneqt.Message{
		MessageID: uuid.NewString(),
		Type:      r.MessageType,
		Topic:     "Health",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
		Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
		Body:      &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Consultation summary for the patient's record"},
		Attachments: []*conneqt.Attachment{
			{FileName: "Consultation summary.pdf", MIMEType: conneqt.MIMEPDF, Data: SamplePDF},
		},
	}
	if route == conneqt.GPConnect {
		conf := false
		m.Topic = "ConsultationSummary"
		m.Recipient.ID = conneqt.Identifier{Value: "B86057", Type: conneqt.IDOdsOrganisation}
		m.GPConnectAdditionalInformation = &conneqt.GPConnectInfo{
			RecipientType:   "For Information",
			SenderReference: "Consultation-" + m.MessageID,
			Confidentiality: &conf,
			VersionNumber:   1,
			Patient:         conneqt.GPPatient{Name: conneqt.HumanName{Family: "Smith", Given: "John"}, DateOfBirth: "1975-11-20"},
			TypeCode:        "325871000000103",
			TypeDescription: "Remote consultation encounter type (record artifact)",
		}
	} else {
		m.CodedDataItems = []conneqt.CodedDataItem{{Code: "407554009", Value: conneqt.NewNumber(140), Units: "mmHg", AdditionalText: "Sitting systolic blood pressure"}}
	}
	return m
}

// Marshal returns m's wire JSON (a stand-in for gpdoc's assemble stage in
// tests). It panics if m cannot be encoded.
func Marshal(m *conneqt.Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
