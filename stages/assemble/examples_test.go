package assemble_test

import "github.com/gpdoc/gpdoc/conneqt"

// The API pages' example messages, with their known mistakes fixed as
// docs/spec.md#mistakes-in-the-api-pages says; see testdata/README.md for
// each change.

func boolPtr(b bool) *bool { return &b }

// exampleText is the decoded text of the instant and GP Connect pages'
// (truncated) example content, completed.
const exampleText = "An example of a payload being encoded for transfer\nThis is a simple text payload."

func standardExample() *conneqt.Message {
	return &conneqt.Message{
		MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876",
		Type:      "ToolbarMessage",
		Topic:     "Health",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
		// The page's 4857773456 fails Modulus 11; its check digit is 7.
		Subject:        conneqt.Party{ID: conneqt.Identifier{Value: "4857773457", Type: conneqt.IDVerifiedNHSNumber}},
		ExpiryDateTime: "2025-07-21T17:32:28+01:00",
		Body:           &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Dispense notification for SMITH, John"},
		Attachments: []*conneqt.Attachment{
			// "YmFzZTY0ZW5jb2RlZHN0cmluZw==" decoded.
			{FileName: "document.pdf", MIMEType: conneqt.MIMEPDF, Data: []byte("base64encodedstring")},
		},
		CodedDataItems: []conneqt.CodedDataItem{
			{Code: "399304008", Value: conneqt.NewNumber(140), Units: "mmHg", AdditionalText: "Sitting systolic blood pressure at consultation."},
		},
	}
}

func instantExample() *conneqt.Message {
	return &conneqt.Message{
		MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197",
		// Type left empty: the route's type is sent.
		Topic:     "DispenseEventNotification",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "GPPRAC001", Type: conneqt.IDOcsClient}},
		Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "9547852140", Type: conneqt.IDVerifiedNHSNumber}},
		// The page's body.fileName does not exist on the wire.
		Body: &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Dispense Event Notification: Copy of prescription form in attached PDF"},
		Attachments: []*conneqt.Attachment{
			// The page leaves fileName off the attachment (and on the body).
			{FileName: "Dispense Notification.pdf", MIMEType: conneqt.MIMEPDF, Data: []byte(exampleText)},
		},
		CodedDataItems: []conneqt.CodedDataItem{
			{Code: "407554009", Value: conneqt.NewNumber(140), Units: "mmHg", AdditionalText: "Sitting systolic blood pressure"},
			{Code: "407555005", Value: conneqt.NewNumber(80), Units: "mmHg", AdditionalText: "Sitting diastolic blood pressure"},
			{Code: "248223005", AdditionalText: "Feeling faint"},
		},
	}
}

func gpconnectExample() *conneqt.Message {
	return &conneqt.Message{
		MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197",
		Type:      "GPConnectMessage",
		Topic:     "DispenseEventNotification",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "GPPRAC001", Type: conneqt.IDOdsOrganisation}},
		Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "9547852140", Type: conneqt.IDNHSNumber}},
		Body:      &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Dispense Event Notification: Copy of prescription form in attached PDF"},
		Attachments: []*conneqt.Attachment{
			{FileName: "Dispense Notification.pdf", MIMEType: conneqt.MIMEPDF, Data: []byte(exampleText + " (v2)")},
		},
		GPConnectAdditionalInformation: &conneqt.GPConnectInfo{
			RecipientType:   "For Action",
			SenderReference: "Consultation-27542d94-26b3-4c2e-9056-5a951b659b60",
			Confidentiality: boolPtr(false),
			RelatesTo:       "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1",
			// The page sends relatesTo with versionNumber 1; a replacement is 2 or more.
			VersionNumber: 2,
			Patient: conneqt.GPPatient{
				Name:        conneqt.HumanName{Family: "Jones", Given: "Henry"},
				DateOfBirth: "1975-11-20",
			},
			Practitioner: &conneqt.Practitioner{
				Name:      conneqt.HumanName{Family: "Jones", Given: "Henry"},
				SDSUserID: "153632348546",
				Telephone: "01249 751000",
				// The page's addresses were lost to e-mail obfuscation.
				Email: "practitioner@example.org",
			},
			Organisation:    &conneqt.Contact{Telephone: "01249 751000", Email: "reception@example.org"},
			TypeCode:        "325871000000103",
			TypeDescription: "Remote consultation encounter type (record artifact)",
		},
	}
}

// examples are the three spec messages, one per route.
var examples = []struct {
	route conneqt.RouteName
	msg   func() *conneqt.Message
}{
	{conneqt.Standard, standardExample},
	{conneqt.Instant, instantExample},
	{conneqt.GPConnect, gpconnectExample},
}
