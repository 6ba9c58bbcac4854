package conneqttest

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/gpdoc/gpdoc/pipeline"
)

// CheckEnvelope is the simulator's built-in validation, used when
// Options.Validate is nil: the structural and per-route checks that are
// cheap to make, driven by the route table. It reports every problem with
// the API's JSON path. now is the time expiryDateTime is judged against.
//
// It checks: type for the route; messageId a UUID; topic, recipient and
// subject present, with the route's identifier types; NHS numbers (10
// digits, Modulus 11); body presence and MIME type; attachment count, MIME
// allow-list, fileName (Windows rules), decoded size, consultation notes
// being UTF-8; expiryDateTime (RFC 3339, in the future, within the route's
// bounds); codedDataItems (refused where the route has none; SCTID format
// and Verhoeff check digit; numeric value); gpConnectAdditionalInformation
// (required on GP Connect and refused elsewhere; its required members).
// The full validate stage is stricter in places; wire it in with
// Options.Validate.
func CheckEnvelope(route *pipeline.Route, msg *pipeline.Message, now time.Time) []pipeline.Problem {
	var ps []pipeline.Problem
	add := func(name, reason, value string) {
		ps = append(ps, pipeline.Problem{Name: name, Reason: reason, Value: value})
	}
	if msg.Type != route.MessageType {
		add("type", fmt.Sprintf("must be %q on this endpoint", route.MessageType), msg.Type)
	}
	if msg.MessageID == "" {
		add("messageId", "required", "")
	} else if _, err := uuid.Parse(msg.MessageID); err != nil || len(msg.MessageID) != 36 {
		add("messageId", "must be a UUID such as 5fd06ef9-8dfd-41de-af35-0d499fdac876", msg.MessageID)
	}
	if strings.TrimSpace(msg.Topic) == "" {
		add("topic", "required: one of the topics from GET topics", "")
	}
	checkParty(add, "recipient", msg.Recipient, route.RecipientIDTypes)
	if v := msg.Recipient.ID.Value; v != "" && msg.Recipient.ID.Type == pipeline.IDOdsOrganisation &&
		!slices.Contains(route.RecipientLiterals, v) && !isODSCode(v) {
		add("recipient.id.value", fmt.Sprintf("must be an ODS code (1 to 9 letters and digits) or one of %s", quoteList(route.RecipientLiterals)), v)
	}
	checkParty(add, "subject", msg.Subject, route.SubjectIDTypes)
	if v := msg.Subject.ID.Value; v != "" && !validNHSNumber(v) {
		add("subject.id.value", "must be a 10-digit NHS number with a valid Modulus 11 check digit", maskNHS(v))
	}

	switch {
	case msg.Body == nil && route.BodyRequired:
		add("body", "required on this route", "")
	case msg.Body != nil:
		if !route.AllowsBodyMIME(msg.Body.MIMEType) {
			add("body.mimeType", "must be "+quoteList(route.BodyMIMETypes), msg.Body.MIMEType)
		}
		if msg.Body.Content == "" {
			add("body.content", "required", "")
		}
	}

	n := len(msg.Attachments)
	if n < route.MinAttachments || n > route.MaxAttachments {
		if route.MinAttachments == route.MaxAttachments {
			add("attachments", fmt.Sprintf("must hold exactly %d attachment(s), got %d", route.MinAttachments, n), "")
		} else {
			add("attachments", fmt.Sprintf("must hold %d to %d attachments, got %d", route.MinAttachments, route.MaxAttachments, n), "")
		}
	}
	for i, a := range msg.Attachments {
		if a == nil {
			add(pipeline.AttachmentField(i, ""), "must be an attachment object", "")
			continue
		}
		if reason := fileNameProblem(a.FileName); reason != "" {
			add(pipeline.AttachmentField(i, "fileName"), reason, a.FileName)
		}
		if !route.AllowsMIME(a.MIMEType) {
			add(pipeline.AttachmentField(i, "mimeType"), "must be "+quoteList(route.AttachmentMIMETypes), a.MIMEType)
		}
		switch {
		case len(a.Data) == 0:
			add(pipeline.AttachmentField(i, "content"), "required: the file's bytes in Base64", "")
		case route.MaxAttachmentBytes > 0 && int64(len(a.Data)) > route.MaxAttachmentBytes:
			add(pipeline.AttachmentField(i, "content"), fmt.Sprintf("file is %d bytes; at most %d allowed", len(a.Data), route.MaxAttachmentBytes), "")
		case a.MIMEType == pipeline.MIMEConsultation && !utf8.Valid(a.Data):
			add(pipeline.AttachmentField(i, "content"), "consultation notes must be plain UTF-8 text", "")
		}
	}

	if msg.ExpiryDateTime != "" {
		t, err := time.Parse(time.RFC3339, msg.ExpiryDateTime)
		switch {
		case err != nil:
			add("expiryDateTime", "must be an RFC 3339 date-time with Z or an offset", msg.ExpiryDateTime)
		case !t.After(now):
			add("expiryDateTime", "must be in the future", msg.ExpiryDateTime)
		case route.ExpiryMin > 0 && t.Before(now.Add(route.ExpiryMin)):
			add("expiryDateTime", fmt.Sprintf("must be at least %s ahead", route.ExpiryMin), msg.ExpiryDateTime)
		case route.ExpiryMax > 0 && t.After(now.Add(route.ExpiryMax)):
			add("expiryDateTime", fmt.Sprintf("must be at most %s ahead", route.ExpiryMax), msg.ExpiryDateTime)
		}
	}

	if len(msg.CodedDataItems) > 0 && !route.CodedDataAllowed {
		add("codedDataItems", "not part of this route: send the coded data in the document itself", "")
	} else {
		for i, c := range msg.CodedDataItems {
			if !validSCTID(c.Code) {
				add(pipeline.IndexField("codedDataItems", i, "code"), "must be a SNOMED CT identifier (6 to 18 digits, no leading zero, valid Verhoeff check digit)", c.Code)
			}
			if c.Value != nil && !c.Value.Valid {
				add(pipeline.IndexField("codedDataItems", i, "value"), "must be a number", c.Value.Text)
			}
		}
	}

	gp := msg.GPConnectAdditionalInformation
	switch {
	case gp == nil && route.GPConnectRequired:
		add("gpConnectAdditionalInformation", "required on this route", "")
	case gp != nil && !route.GPConnectRequired:
		add("gpConnectAdditionalInformation", "only allowed on the GP Connect route", "")
	case gp != nil:
		ps = append(ps, checkGPConnect(gp, now)...)
	}
	return ps
}

func checkGPConnect(gp *pipeline.GPConnectInfo, now time.Time) []pipeline.Problem {
	var ps []pipeline.Problem
	const p = "gpConnectAdditionalInformation."
	add := func(name, reason, value string) {
		ps = append(ps, pipeline.Problem{Name: p + name, Reason: reason, Value: value})
	}
	if gp.RecipientType != "For Action" && gp.RecipientType != "For Information" {
		add("recipientType", `must be "For Action" or "For Information"`, gp.RecipientType)
	}
	if strings.TrimSpace(gp.SenderReference) == "" {
		add("senderReference", "required", "")
	}
	if gp.Confidentiality == nil {
		add("confidentiality", "required: true or false", "")
	}
	switch {
	case gp.VersionNumber < 1:
		add("versionNumber", "must be 1 for a first send, greater than 1 for a replacement", fmt.Sprint(gp.VersionNumber))
	case gp.VersionNumber > 1 && gp.RelatesTo == "":
		add("relatesTo", "required when versionNumber is greater than 1 (a replacement)", "")
	case gp.VersionNumber == 1 && gp.RelatesTo != "":
		add("versionNumber", "must be greater than 1 when relatesTo names the message replaced", "1")
	}
	if strings.TrimSpace(gp.Patient.Name.Family) == "" {
		add("patient.name.family", "required", "")
	}
	if dob, err := time.Parse(time.DateOnly, gp.Patient.DateOfBirth); err != nil {
		add("patient.dateOfBirth", "must be a date YYYY-MM-DD", "")
	} else if dob.After(now) {
		add("patient.dateOfBirth", "must not be in the future", "")
	}
	if gp.Practitioner != nil && strings.TrimSpace(gp.Practitioner.Name.Family) == "" {
		add("practitioner.name.family", "required when practitioner is given", "")
	}
	if !validSCTID(gp.TypeCode) {
		add("typeCode", "must be a SNOMED CT identifier for the encounter type", gp.TypeCode)
	}
	if strings.TrimSpace(gp.TypeDescription) == "" {
		add("typeDescription", "required", "")
	}
	return ps
}

func checkParty(add func(name, reason, value string), name string, p pipeline.Party, types []string) {
	if p.ID.Value == "" {
		add(name+".id.value", "required", "")
	}
	if !slices.Contains(types, p.ID.Type) {
		add(name+".id.type", "must be "+quoteList(types), p.ID.Type)
	}
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "one of " + strings.Join(q, ", ")
}

func isODSCode(s string) bool {
	if len(s) < 1 || len(s) > 9 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// validNHSNumber checks 10 digits and the Modulus 11 check digit.
func validNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := range 10 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(s[9]-'0')
}

// maskNHS keeps only the last 3 characters of a would-be NHS number.
func maskNHS(s string) string {
	if len(s) <= 3 {
		return "***"
	}
	return strings.Repeat("*", min(len(s)-3, 16)) + s[len(s)-3:]
}

var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}
	verhoeffF = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}}
)

// validSCTID checks a SNOMED CT identifier: 6 to 18 digits, no leading
// zero, valid Verhoeff check digit (DOMAIN.md §3).
func validSCTID(s string) bool {
	if len(s) < 6 || len(s) > 18 || s[0] == '0' {
		return false
	}
	c := byte(0)
	for p := 0; p < len(s); p++ {
		d := s[len(s)-1-p]
		if d < '0' || d > '9' {
			return false
		}
		c = verhoeffD[c][verhoeffF[p%8][d-'0']]
	}
	return c == 0
}

// fileNameProblem checks the Windows file-name rules the pages ask for, and
// returns "" if name is fine.
func fileNameProblem(name string) string {
	switch {
	case name == "":
		return "required"
	case utf8.RuneCountInString(name) > 255:
		return "must be at most 255 characters"
	case strings.TrimFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '.' }) != name:
		return "must not start or end with whitespace or a period"
	}
	for _, r := range name {
		if r < 32 || strings.ContainsRune(`<>:"/\|?*`, r) {
			return `must not contain control characters or any of < > : " / \ | ? *`
		}
	}
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL":
		return "is a reserved Windows device name"
	}
	if len(stem) >= 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		rest := stem[3:]
		if (len(rest) == 1 && rest[0] >= '0' && rest[0] <= '9') || rest == "¹" || rest == "²" || rest == "³" {
			return "is a reserved Windows device name"
		}
	}
	return ""
}
