package validate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
)

func p(name, reason, value string) conneqt.Problem {
	return conneqt.Problem{Name: name, Reason: reason, Value: value}
}

func diff(t *testing.T, kind string, got, want []conneqt.Problem) {
	t.Helper()
	if !slices.Equal(got, want) {
		var g, w strings.Builder
		for _, x := range got {
			fmt.Fprintf(&g, "\n\t%#v", x)
		}
		for _, x := range want {
			fmt.Fprintf(&w, "\n\t%#v", x)
		}
		t.Errorf("%s:\ngot:%s\nwant:%s", kind, g.String(), w.String())
	}
}

func TestEnvelope(t *testing.T) {
	const gpcI = "gpConnectAdditionalInformation"
	type tc struct {
		name     string
		route    conneqt.RouteName
		edit     func(m *conneqt.Message)
		opts     Options
		input    bool // check with the Stage, as gpdoc's input (see TestAttachments)
		problems []conneqt.Problem
		warnings []conneqt.Problem
	}
	num := func(text string, valid bool) *conneqt.Number { return &conneqt.Number{Text: text, Valid: valid} }
	tests := []tc{
		{name: "valid standard", route: conneqt.Standard},
		{name: "valid instant without body", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.Body = nil }},
		{name: "valid gpconnect", route: conneqt.GPConnect},
		// messageId
		{name: "messageId not a UUID", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.MessageID = "abc" },
			problems: []conneqt.Problem{p("messageId", "must be a UUID (36 characters, e.g. 869c3439-fcb8-4546-b372-2af2bf54e197)", "abc")}},
		{name: "messageId as URN", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.MessageID = "urn:uuid:869c3439-fcb8-4546-b372-2af2bf54e197" },
			problems: []conneqt.Problem{p("messageId", "must be a UUID (36 characters, e.g. 869c3439-fcb8-4546-b372-2af2bf54e197)", "urn:uuid:869c3439-fcb8-4546-b372-2af2bf54e197")}},
		// type
		{name: "type of another route", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Type = "ToolbarInstantMessage" },
			problems: []conneqt.Problem{p("type", "must be 'ToolbarMessage' on the standard route", "ToolbarInstantMessage")}},
		// topic
		{name: "topic empty", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Topic = " " },
			problems: []conneqt.Problem{p("topic", "required", "")}},
		{name: "topic in list", route: conneqt.Standard, opts: Options{Topics: []string{"Health", "Pharmacy"}}},
		{name: "topic not in list", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Topic = "Other" }, opts: Options{Topics: []string{"Health", "Pharmacy"}},
			problems: []conneqt.Problem{p("topic", "not one of the service's topics: 'Health' or 'Pharmacy'", "Other")}},
		// recipient
		{name: "recipient type of another route", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Recipient.ID.Type = conneqt.IDOdsOrganisation },
			problems: []conneqt.Problem{p("recipient.id.type", "must be 'OcsClientIdentifier' on the standard route", "OdsOrganisationId")}},
		{name: "recipient value empty", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "" },
			problems: []conneqt.Problem{p("recipient.id.value", "required", "")}},
		{name: "OCS value with a space", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "G 0001" },
			problems: []conneqt.Problem{p("recipient.id.value", "must be an OCS client identifier (letters, digits, '.', '_' or '-', up to 64)", "G 0001")}},
		{name: "gpconnect recipient UNK", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "UNK" }},
		{name: "gpconnect recipient gpconnect", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "gpconnect" }},
		{name: "gpconnect recipient bad ODS", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "B86-057" },
			problems: []conneqt.Problem{p("recipient.id.value", "must be an ODS organisation code (1 to 9 letters and digits), or 'UNK' or 'gpconnect'", "B86-057")}},
		{name: "gpconnect recipient OCS type", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Recipient.ID.Type = conneqt.IDOcsClient },
			problems: []conneqt.Problem{p("recipient.id.type", "must be 'OdsOrganisationId' on the gpconnect route", "OcsClientIdentifier")}},
		{name: "gpconnect recipient unk", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "unk" },
			problems: []conneqt.Problem{p("recipient.id.value", "must be written 'UNK' (as the gpconnect route spells it), not as an organisation code", "unk")}},
		{name: "gpconnect recipient GPConnect", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "GPConnect" },
			problems: []conneqt.Problem{p("recipient.id.value", "must be written 'gpconnect' (as the gpconnect route spells it), not as an organisation code", "GPConnect")}},
		{name: "standard recipient unk is an OCS id", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Recipient.ID.Value = "unk" }},
		{name: "recipient type empty", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Recipient.ID.Type = "" },
			problems: []conneqt.Problem{p("recipient.id.type", "required on the standard route: 'OcsClientIdentifier'", "")}},
		// subject
		{name: "subject type empty on gpconnect", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Subject.ID.Type = "" },
			problems: []conneqt.Problem{p("subject.id.type", "required on the gpconnect route: 'VerifiedNhsNumber' or 'NHSNumber'", "")}},
		{name: "subject NHSNumber on standard", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Subject.ID.Type = conneqt.IDNHSNumber },
			problems: []conneqt.Problem{p("subject.id.type", "must be 'VerifiedNhsNumber' on the standard route", "NHSNumber")}},
		{name: "subject VerifiedNhsNumber on gpconnect", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Subject.ID.Type = conneqt.IDVerifiedNHSNumber }},
		{name: "NHS number check digit", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Subject.ID.Value = "4857773456" },
			problems: []conneqt.Problem{p("subject.id.value", "not a valid NHS number: the Modulus 11 check digit is wrong", "485***3456")}},
		{name: "NHS number never issued", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Subject.ID.Value = "1234567890" },
			problems: []conneqt.Problem{p("subject.id.value", "not a valid NHS number: the Modulus 11 check digit computes to 10: such numbers are never issued", "123***7890")}},
		{name: "NHS number too short", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Subject.ID.Value = "12345" },
			problems: []conneqt.Problem{p("subject.id.value", "must be a 10-digit NHS number: not 10 digits (got 5 characters)", "")}},
		{name: "NHS number missing", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Subject.ID.Value = "" },
			problems: []conneqt.Problem{p("subject.id.value", "required: the patient's NHS number", "")}},
		{name: "NHS number with spaces, strict", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Subject.ID.Value = "943 476 5919" },
			problems: []conneqt.Problem{p("subject.id.value", "must be the 10 digits of the NHS number without spaces or dashes", "943***5919")}},
		{name: "NHS number with spaces, sanitised", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Subject.ID.Value = "943-476-5919" }, input: true},
		// expiry
		{name: "expiry 4 days ahead", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-11-25T10:00:00Z" }},
		{name: "expiry with offset", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-11-25T10:00:00+01:00" }},
		{name: "expiry in the past", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-11-21T09:00:00Z" },
			problems: []conneqt.Problem{p("expiryDateTime", "must be in the future", "2026-11-21T09:00:00Z")}},
		{name: "expiry a date only", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-11-25" },
			problems: []conneqt.Problem{p("expiryDateTime", "must be an RFC 3339 date-time with 'Z' or an offset, e.g. 2026-12-01T09:00:00Z", "2026-11-25")}},
		{name: "expiry without offset", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-11-25T10:00:00" },
			problems: []conneqt.Problem{p("expiryDateTime", "must be an RFC 3339 date-time with 'Z' or an offset, e.g. 2026-12-01T09:00:00Z", "2026-11-25T10:00:00")}},
		{name: "expiry under a day on standard", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-11-21T20:00:00Z" },
			problems: []conneqt.Problem{p("expiryDateTime", "must be 1 day to 28 days ahead on the standard route", "2026-11-21T20:00:00Z")}},
		{name: "expiry over 28 days on standard", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-12-20T10:00:00Z" },
			problems: []conneqt.Problem{p("expiryDateTime", "must be 1 day to 28 days ahead on the standard route", "2026-12-20T10:00:00Z")}},
		{name: "expiry 60 days on instant", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2027-01-20T10:00:00Z" }},
		{name: "expiry within the hour", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.ExpiryDateTime = "2026-11-21T10:30:00Z" },
			warnings: []conneqt.Problem{p("expiryDateTime", "expires in under an hour: the practice may not see the message in time", "2026-11-21T10:30:00Z")}},
		// body
		{name: "body missing on standard", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Body = nil },
			problems: []conneqt.Problem{p("body", "required on the standard route", "")}},
		{name: "HTML body on standard", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Body.MIMEType = conneqt.MIMEHTML },
			problems: []conneqt.Problem{p("body.mimeType", "must be 'text/plain' on the standard route", "text/html")}},
		{name: "HTML body on instant", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.Body.MIMEType = conneqt.MIMEHTML }},
		{name: "PDF body on gpconnect", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.Body.MIMEType = conneqt.MIMEPDF },
			problems: []conneqt.Problem{p("body.mimeType", "must be 'text/plain' or 'text/html' on the gpconnect route", "application/pdf")}},
		{name: "body content empty", route: conneqt.Instant, edit: func(m *conneqt.Message) { m.Body.Content = "" },
			problems: []conneqt.Problem{p("body.content", "required: the text shown to the recipient", "")}},
		// attachment count
		{name: "no attachments", route: conneqt.Standard, edit: func(m *conneqt.Message) { m.Attachments = nil },
			problems: []conneqt.Problem{p("attachments", "the standard route takes 1 to 10 attachments", "0")}},
		{name: "eleven attachments", route: conneqt.Instant, edit: func(m *conneqt.Message) {
			for len(m.Attachments) < 11 {
				a := *m.Attachments[0]
				a.FileName = fmt.Sprintf("letter %d.pdf", len(m.Attachments))
				m.Attachments = append(m.Attachments, &a)
			}
		}, problems: []conneqt.Problem{p("attachments", "the instant route takes 1 to 10 attachments", "11")}},
		{name: "two attachments on gpconnect", route: conneqt.GPConnect, edit: func(m *conneqt.Message) {
			a := *m.Attachments[0]
			a.FileName = "second.pdf"
			m.Attachments = append(m.Attachments, &a)
		}, problems: []conneqt.Problem{p("attachments", "the gpconnect route takes exactly 1 attachment(s)", "2")}},
		// coded data
		{name: "valid coded data", route: conneqt.Standard, edit: func(m *conneqt.Message) {
			m.CodedDataItems = []conneqt.CodedDataItem{{Code: "407554009", Value: num("140", true), Units: "mmHg"}, {Code: "248223005"}}
		}},
		{name: "coded data bad code and value", route: conneqt.Instant, edit: func(m *conneqt.Message) {
			m.CodedDataItems = []conneqt.CodedDataItem{{Code: "407554009"}, {Code: "407554008", Value: num("high", false)}}
		}, problems: []conneqt.Problem{
			p("codedDataItems[1].code", "must be a SNOMED CT concept id: Verhoeff check digit is wrong", "407554008"),
			p("codedDataItems[1].value", "must be a number", "high"),
		}},
		{name: "coded data description id", route: conneqt.Standard, edit: func(m *conneqt.Message) {
			m.CodedDataItems = []conneqt.CodedDataItem{{Code: "100014"}}
		}, problems: []conneqt.Problem{p("codedDataItems[0].code", "must be a SNOMED CT concept id: not a concept identifier: it identifies a description", "100014")}},
		{name: "coded data without attachments", route: conneqt.Standard, edit: func(m *conneqt.Message) {
			m.Attachments = nil
			m.CodedDataItems = []conneqt.CodedDataItem{{Code: "407554009"}}
		}, problems: []conneqt.Problem{
			p("attachments", "the standard route takes 1 to 10 attachments", "0"),
			p("codedDataItems", "coded data items need at least one attachment", ""),
		}},
		{name: "coded data on gpconnect", route: conneqt.GPConnect, edit: func(m *conneqt.Message) {
			m.CodedDataItems = []conneqt.CodedDataItem{{Code: "407554009"}}
		}, problems: []conneqt.Problem{p("codedDataItems", "not part of the gpconnect route: send coded data on the standard or instant route", "")}},
		// GP Connect additional information
		{name: "gpconnect info missing", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation = nil },
			problems: []conneqt.Problem{p(gpcI, "required on the gpconnect route", "")}},
		{name: "gpconnect info on standard", route: conneqt.Standard, edit: func(m *conneqt.Message) {
			m.GPConnectAdditionalInformation = baseMessage(conneqt.GPConnect).GPConnectAdditionalInformation
		}, problems: []conneqt.Problem{p(gpcI, "only for the GP Connect route", "")}},
		{name: "recipientType", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.RecipientType = "FA" },
			problems: []conneqt.Problem{p(gpcI+".recipientType", "must be 'For Action' or 'For Information'", "FA")}},
		{name: "recipientType For Action", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.RecipientType = "For Action" }},
		{name: "senderReference", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.SenderReference = "" },
			problems: []conneqt.Problem{p(gpcI+".senderReference", "required: a unique reference to the consultation event", "")}},
		{name: "confidentiality", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Confidentiality = nil },
			problems: []conneqt.Problem{p(gpcI+".confidentiality", "required: true or false", "")}},
		{name: "versionNumber missing", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.VersionNumber = 0 },
			problems: []conneqt.Problem{p(gpcI+".versionNumber", "required: 1 for a first send, more than 1 for a replacement", "0")}},
		{name: "version 1 with relatesTo", route: conneqt.GPConnect, edit: func(m *conneqt.Message) {
			m.GPConnectAdditionalInformation.RelatesTo = "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1"
		}, problems: []conneqt.Problem{p(gpcI+".versionNumber", "must be more than 1 when relatesTo names the message this one replaces", "1")}},
		{name: "version 2 with relatesTo", route: conneqt.GPConnect, edit: func(m *conneqt.Message) {
			m.GPConnectAdditionalInformation.VersionNumber = 2
			m.GPConnectAdditionalInformation.RelatesTo = "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1"
		}},
		{name: "version 2 without relatesTo", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.VersionNumber = 2 },
			problems: []conneqt.Problem{p(gpcI+".relatesTo", "required when versionNumber is more than 1: the id of the message this one replaces", "")}},
		{name: "relatesTo not a UUID", route: conneqt.GPConnect, edit: func(m *conneqt.Message) {
			m.GPConnectAdditionalInformation.VersionNumber = 2
			m.GPConnectAdditionalInformation.RelatesTo = "msg-1"
		}, problems: []conneqt.Problem{p(gpcI+".relatesTo", "must be the UUID of the message this one replaces", "msg-1")}},
		{name: "patient family", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Patient.Name.Family = "" },
			problems: []conneqt.Problem{p(gpcI+".patient.name.family", "required", "")}},
		{name: "date of birth missing", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Patient.DateOfBirth = "" },
			problems: []conneqt.Problem{p(gpcI+".patient.dateOfBirth", "required (YYYY-MM-DD)", "")}},
		{name: "date of birth format", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Patient.DateOfBirth = "20/11/1975" },
			problems: []conneqt.Problem{p(gpcI+".patient.dateOfBirth", "must be a date YYYY-MM-DD", "20/11/1975")}},
		{name: "date of birth today", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Patient.DateOfBirth = "2026-11-21" }},
		{name: "date of birth in the future", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Patient.DateOfBirth = "2026-11-22" },
			problems: []conneqt.Problem{p(gpcI+".patient.dateOfBirth", "must not be in the future", "2026-11-22")}},
		{name: "practitioner family", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Practitioner.Name.Family = "" },
			problems: []conneqt.Problem{p(gpcI+".practitioner.name.family", "required when a practitioner is given", "")}},
		{name: "no practitioner", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Practitioner = nil }},
		{name: "practitioner without contact", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Practitioner.Telephone = "" },
			warnings: []conneqt.Problem{p(gpcI+".practitioner", "should give a telephone or an email where known", "")}},
		{name: "organisation without contact", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Organisation.Email = "" },
			warnings: []conneqt.Problem{p(gpcI+".organisation", "should give a telephone or an email", "")}},
		{name: "typeCode invalid", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.TypeCode = "325871000000104" },
			problems: []conneqt.Problem{p(gpcI+".typeCode", "must be a SNOMED CT concept id for the encounter type: Verhoeff check digit is wrong", "325871000000104")}},
		{name: "typeCode missing", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.TypeCode = "" },
			problems: []conneqt.Problem{p(gpcI+".typeCode", "required: the SNOMED CT encounter type, e.g. 325871000000103", "")}},
		{name: "typeDescription missing", route: conneqt.GPConnect, edit: func(m *conneqt.Message) { m.GPConnectAdditionalInformation.TypeDescription = "" },
			problems: []conneqt.Problem{p(gpcI+".typeDescription", "required: the display text of typeCode", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseMessage(tt.route, pdfAttachment(t))
			if tt.edit != nil {
				tt.edit(m)
			}
			opts := tt.opts
			opts.Now = fixedNow
			problems, warnings := CheckMessage(conneqt.MustRoute(tt.route), m, opts)
			if tt.input {
				problems, warnings = checkInput(t, conneqt.MustRoute(tt.route), m, opts)
			}
			diff(t, "problems", problems, tt.problems)
			diff(t, "warnings", warnings, tt.warnings)
		})
	}
}
