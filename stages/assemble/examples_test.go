package assemble_test

import (
	"github.com/gpdoc/gpdoc/pipeline"
)

// The spec pages' example messages (../shared/spec/*.txt), with their known
// mistakes fixed as the spec README and DOMAIN.md section 0 say; see
// testdata/README.md for each change.

func boolPtr(b bool) *bool { return &b }

// exampleText is the decoded text of the instant and GP Connect pages'
// (truncated) example content, completed.
const exampleText = "An example of a payload being encoded for transfer\nThis is a simple text payload."

func standardExample() *pipeline.Message {
	return &pipeline.Message{
		MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876",
		Type:      "ToolbarMessage",
		Topic:     "Health",
		Recipient: pipeline.Party{ID: pipeline.Identifier{Value: "G00001", Type: pipeline.IDOcsClient}},
		// The page's 4857773456 fails Modulus 11; its check digit is 7.
		Subject:        pipeline.Party{ID: pipeline.Identifier{Value: "4857773457", Type: pipeline.IDVerifiedNHSNumber}},
		ExpiryDateTime: "2025-07-21T17:32:28+01:00",
		Body:           &pipeline.Body{MIMEType: pipeline.MIMEText, Content: "Dispense notification for SMITH, John"},
		Attachments: []*pipeline.Attachment{
			// "YmFzZTY0ZW5jb2RlZHN0cmluZw==" decoded.
			{FileName: "document.pdf", MIMEType: pipeline.MIMEPDF, Data: []byte("base64encodedstring")},
		},
		CodedDataItems: []pipeline.CodedDataItem{
			{Code: "399304008", Value: pipeline.NewNumber(140), Units: "mmHg", AdditionalText: "Sitting systolic blood pressure at consultation."},
		},
	}
}

func instantExample() *pipeline.Message {
	return &pipeline.Message{
		MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197",
		// Type left empty: the route's type is sent.
		Topic:     "DispenseEventNotification",
		Recipient: pipeline.Party{ID: pipeline.Identifier{Value: "GPPRAC001", Type: pipeline.IDOcsClient}},
		Subject:   pipeline.Party{ID: pipeline.Identifier{Value: "9547852140", Type: pipeline.IDVerifiedNHSNumber}},
		// The page's body.fileName does not exist on the wire.
		Body: &pipeline.Body{MIMEType: pipeline.MIMEText, Content: "Dispense Event Notification: Copy of prescription form in attached PDF"},
		Attachments: []*pipeline.Attachment{
			// The page leaves fileName off the attachment (and on the body).
			{FileName: "Dispense Notification.pdf", MIMEType: pipeline.MIMEPDF, Data: []byte(exampleText)},
		},
		CodedDataItems: []pipeline.CodedDataItem{
			{Code: "407554009", Value: pipeline.NewNumber(140), Units: "mmHg", AdditionalText: "Sitting systolic blood pressure"},
			{Code: "407555005", Value: pipeline.NewNumber(80), Units: "mmHg", AdditionalText: "Sitting diastolic blood pressure"},
			{Code: "248223005", AdditionalText: "Feeling faint"},
		},
	}
}

func gpconnectExample() *pipeline.Message {
	return &pipeline.Message{
		MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197",
		Type:      "GPConnectMessage",
		Topic:     "DispenseEventNotification",
		Recipient: pipeline.Party{ID: pipeline.Identifier{Value: "GPPRAC001", Type: pipeline.IDOdsOrganisation}},
		Subject:   pipeline.Party{ID: pipeline.Identifier{Value: "9547852140", Type: pipeline.IDNHSNumber}},
		Body:      &pipeline.Body{MIMEType: pipeline.MIMEText, Content: "Dispense Event Notification: Copy of prescription form in attached PDF"},
		Attachments: []*pipeline.Attachment{
			{FileName: "Dispense Notification.pdf", MIMEType: pipeline.MIMEPDF, Data: []byte(exampleText + " (v2)")},
		},
		GPConnectAdditionalInformation: &pipeline.GPConnectInfo{
			RecipientType:   "For Action",
			SenderReference: "Consultation-27542d94-26b3-4c2e-9056-5a951b659b60",
			Confidentiality: boolPtr(false),
			RelatesTo:       "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1",
			// The page sends relatesTo with versionNumber 1; a replacement is 2 or more.
			VersionNumber: 2,
			Patient: pipeline.GPPatient{
				Name:        pipeline.HumanName{Family: "Jones", Given: "Henry"},
				DateOfBirth: "1975-11-20",
			},
			Practitioner: &pipeline.Practitioner{
				Name:      pipeline.HumanName{Family: "Jones", Given: "Henry"},
				SDSUserID: "153632348546",
				Telephone: "01249 751000",
				// The page's addresses were lost to e-mail obfuscation.
				Email: "practitioner@example.org",
			},
			Organisation:    &pipeline.Contact{Telephone: "01249 751000", Email: "reception@example.org"},
			TypeCode:        "325871000000103",
			TypeDescription: "Remote consultation encounter type (record artifact)",
		},
	}
}

// examples are the three spec messages, one per route.
var examples = []struct {
	route pipeline.RouteName
	msg   func() *pipeline.Message
}{
	{pipeline.Standard, standardExample},
	{pipeline.Instant, instantExample},
	{pipeline.GPConnect, gpconnectExample},
}
