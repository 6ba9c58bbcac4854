package validate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/conneqt/sctid"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
)

// report collects problems and warnings.
type report struct {
	problems, warnings []conneqt.Problem
	// ctx bounds waits for the decode budget (nil: none).
	ctx context.Context
	// parsed is the PDF an attachment check opened, for the sanitise
	// stage to reuse (pdfdoc.ParsedKey).
	parsed *pdfdoc.Parsed
}

func (r *report) problem(name, reason, value string) {
	r.problems = append(r.problems, conneqt.Problem{Name: name, Reason: reason, Value: value})
}

func (r *report) warn(name, reason, value string) {
	r.warnings = append(r.warnings, conneqt.Problem{Name: name, Reason: reason, Value: value})
}

// clip keeps problem values short.
func clip(s string) string {
	if len(s) <= 100 {
		return s
	}
	cut := 100
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	switch len(q) {
	case 0:
		return "(none)"
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// IsUUID reports whether s is a UUID in its canonical 36-character form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

var (
	ocsPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	odsPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,9}$`)
)

// checkEnvelope checks everything but the attachments' content and names.
// attachments is the number of attachments the message will have when
// sent.
func checkEnvelope(route *conneqt.Route, msg *conneqt.Message, attachments int, opts Options, r *report) {
	now := opts.now()
	if !IsUUID(msg.MessageID) {
		r.problem("messageId", "must be a UUID (36 characters, e.g. 869c3439-fcb8-4546-b372-2af2bf54e197)", clip(msg.MessageID))
	}
	if msg.Type != route.MessageType {
		r.problem("type", fmt.Sprintf("must be '%s' on the %s route", route.MessageType, route.Name), clip(msg.Type))
	}
	switch {
	case strings.TrimSpace(msg.Topic) == "":
		r.problem("topic", "required", "")
	case len(opts.Topics) > 0 && !slices.Contains(opts.Topics, msg.Topic):
		shown := opts.Topics
		if len(shown) > 10 {
			shown = append(slices.Clone(shown[:10]), fmt.Sprintf("%d more", len(opts.Topics)-10))
		}
		r.problem("topic", "not one of the service's topics: "+quoteList(shown), clip(msg.Topic))
	}
	checkRecipient(route, msg.Recipient.ID, r)
	checkSubject(route, msg.Subject.ID, opts, r)
	checkExpiry(route, msg.ExpiryDateTime, now, r)
	checkBody(route, msg.Body, r)
	switch {
	case attachments < route.MinAttachments:
		r.problem("attachments", countReason(route), fmt.Sprint(attachments))
	case route.MaxAttachments > 0 && attachments > route.MaxAttachments:
		r.problem("attachments", countReason(route), fmt.Sprint(attachments))
	}
	checkCodedData(route, msg.CodedDataItems, attachments, r)
	checkGPConnect(route, msg.GPConnectAdditionalInformation, now, r)
}

func countReason(route *conneqt.Route) string {
	if route.MinAttachments == route.MaxAttachments {
		return fmt.Sprintf("the %s route takes exactly %d attachment(s)", route.Name, route.MinAttachments)
	}
	return fmt.Sprintf("the %s route takes %d to %d attachments", route.Name, route.MinAttachments, route.MaxAttachments)
}

// IsODSCode reports whether s has the shape of an ODS organisation code:
// 1 to 9 letters and digits (docs/spec.md#identifiers).
func IsODSCode(s string) bool { return odsPattern.MatchString(s) }

// checkIDType checks an identifier's type against the route's values. An
// empty type is filled in by the manifest reader where the route allows one
// value; where it allows several, it is required.
func checkIDType(route *conneqt.Route, name, typ string, allowed []string, r *report) {
	switch {
	case slices.Contains(allowed, typ):
	case typ == "":
		r.problem(name, "required on the "+string(route.Name)+" route: "+quoteList(allowed), "")
	default:
		r.problem(name, "must be "+quoteList(allowed)+" on the "+string(route.Name)+" route", clip(typ))
	}
}

func checkRecipient(route *conneqt.Route, id conneqt.Identifier, r *report) {
	checkIDType(route, "recipient.id.type", id.Type, route.RecipientIDTypes, r)
	v := id.Value
	literal := slices.IndexFunc(route.RecipientLiterals, func(l string) bool { return strings.EqualFold(strings.TrimSpace(v), l) })
	switch {
	case v == "":
		r.problem("recipient.id.value", "required", "")
	case slices.Contains(route.RecipientLiterals, v):
	case literal >= 0:
		// "unk" is not an ODS code: it is UNK written in another case.
		lit := route.RecipientLiterals[literal]
		r.problem("recipient.id.value", fmt.Sprintf("must be written '%s' (as the %s route spells it), not as an organisation code", lit, route.Name), clip(v))
	case id.Type == conneqt.IDOdsOrganisation:
		if !odsPattern.MatchString(v) {
			reason := "must be an ODS organisation code (1 to 9 letters and digits)"
			if len(route.RecipientLiterals) > 0 {
				reason += ", or " + quoteList(route.RecipientLiterals)
			}
			r.problem("recipient.id.value", reason, clip(v))
		}
	case id.Type == conneqt.IDOcsClient:
		if !ocsPattern.MatchString(v) {
			r.problem("recipient.id.value", "must be an OCS client identifier (letters, digits, '.', '_' or '-', up to 64)", clip(v))
		}
	}
}

func checkSubject(route *conneqt.Route, id conneqt.Identifier, opts Options, r *report) {
	checkIDType(route, "subject.id.type", id.Type, route.SubjectIDTypes, r)
	if id.Value == "" {
		r.problem("subject.id.value", "required: the patient's NHS number", "")
		return
	}
	err := nhsnumber.Check(id.Value)
	if err == nil {
		return
	}
	_, nerr := nhsnumber.Normalise(id.Value)
	switch {
	case nerr == nil && !opts.exact:
		// The check phase's sanitise stage removes the spaces or dashes.
	case nerr == nil:
		r.problem("subject.id.value", "must be the 10 digits of the NHS number without spaces or dashes", nhsnumber.Mask(id.Value))
	case errors.Is(nerr, nhsnumber.ErrFormat):
		r.problem("subject.id.value", "must be a 10-digit NHS number: "+nerr.Error(), nhsnumber.Mask(id.Value))
	default:
		r.problem("subject.id.value", "not a valid NHS number: the Modulus 11 "+nerr.Error(), nhsnumber.Mask(id.Value))
	}
}

// ParseExpiry parses an expiryDateTime: RFC 3339 with 'Z' or an offset.
func ParseExpiry(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.ContainsAny(s[:min(len(s), 11)], "T") {
		return time.Time{}, errors.New("must be an RFC 3339 date-time with 'Z' or an offset, e.g. 2026-12-01T09:00:00Z")
	}
	return t, nil
}

func checkExpiry(route *conneqt.Route, s string, now time.Time, r *report) {
	if s == "" {
		return
	}
	t, err := ParseExpiry(s)
	if err != nil {
		r.problem("expiryDateTime", err.Error(), clip(s))
		return
	}
	ahead := t.Sub(now)
	switch {
	case ahead <= 0:
		r.problem("expiryDateTime", "must be in the future", s)
	case route.ExpiryMin > 0 && ahead < route.ExpiryMin, route.ExpiryMax > 0 && ahead > route.ExpiryMax:
		r.problem("expiryDateTime", fmt.Sprintf("must be %s to %s ahead on the %s route", days(route.ExpiryMin), days(route.ExpiryMax), route.Name), s)
	case ahead < time.Hour:
		r.warn("expiryDateTime", "expires in under an hour: the practice may not see the message in time", s)
	}
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

func checkBody(route *conneqt.Route, b *conneqt.Body, r *report) {
	if b == nil {
		if route.BodyRequired {
			r.problem("body", "required on the "+string(route.Name)+" route", "")
		}
		return
	}
	if !route.AllowsBodyMIME(b.MIMEType) {
		r.problem("body.mimeType", "must be "+quoteList(route.BodyMIMETypes)+" on the "+string(route.Name)+" route", clip(b.MIMEType))
	}
	if strings.TrimSpace(b.Content) == "" {
		r.problem("body.content", "required: the text shown to the recipient", "")
	}
}

func checkCodedData(route *conneqt.Route, items []conneqt.CodedDataItem, attachments int, r *report) {
	if len(items) == 0 {
		return
	}
	if !route.CodedDataAllowed {
		r.problem("codedDataItems", "not part of the "+string(route.Name)+" route: send coded data on the standard or instant route", "")
		return
	}
	if attachments == 0 {
		r.problem("codedDataItems", "coded data items need at least one attachment", "")
	}
	for i, it := range items {
		if err := sctid.CheckConcept(it.Code); err != nil {
			r.problem(conneqt.IndexField("codedDataItems", i, "code"), "must be a SNOMED CT concept id: "+err.Error(), clip(it.Code))
		}
		if it.Value != nil && !it.Value.Valid {
			r.problem(conneqt.IndexField("codedDataItems", i, "value"), "must be a number", clip(it.Value.Text))
		}
	}
}

// RecipientTypes are the values of gpConnectAdditionalInformation.recipientType.
var RecipientTypes = []string{"For Action", "For Information"}

const gpc = "gpConnectAdditionalInformation"

func checkGPConnect(route *conneqt.Route, g *conneqt.GPConnectInfo, now time.Time, r *report) {
	if g == nil {
		if route.GPConnectRequired {
			r.problem(gpc, "required on the "+string(route.Name)+" route", "")
		}
		return
	}
	if !route.GPConnectRequired {
		r.problem(gpc, "only for the GP Connect route", "")
		return
	}
	if !slices.Contains(RecipientTypes, g.RecipientType) {
		r.problem(gpc+".recipientType", "must be "+quoteList(RecipientTypes), clip(g.RecipientType))
	}
	if strings.TrimSpace(g.SenderReference) == "" {
		r.problem(gpc+".senderReference", "required: a unique reference to the consultation event", "")
	}
	if g.Confidentiality == nil {
		r.problem(gpc+".confidentiality", "required: true or false", "")
	}
	switch {
	case g.VersionNumber < 1:
		r.problem(gpc+".versionNumber", "required: 1 for a first send, more than 1 for a replacement", fmt.Sprint(g.VersionNumber))
	case g.VersionNumber == 1 && g.RelatesTo != "":
		r.problem(gpc+".versionNumber", "must be more than 1 when relatesTo names the message this one replaces", "1")
	case g.VersionNumber > 1 && g.RelatesTo == "":
		r.problem(gpc+".relatesTo", "required when versionNumber is more than 1: the id of the message this one replaces", "")
	}
	if g.RelatesTo != "" && !IsUUID(g.RelatesTo) {
		r.problem(gpc+".relatesTo", "must be the UUID of the message this one replaces", clip(g.RelatesTo))
	}
	if strings.TrimSpace(g.Patient.Name.Family) == "" {
		r.problem(gpc+".patient.name.family", "required", "")
	}
	checkDateOfBirth(g.Patient.DateOfBirth, now, r)
	if p := g.Practitioner; p != nil {
		if strings.TrimSpace(p.Name.Family) == "" {
			r.problem(gpc+".practitioner.name.family", "required when a practitioner is given", "")
		}
		if p.Telephone == "" && p.Email == "" {
			r.warn(gpc+".practitioner", "should give a telephone or an email where known", "")
		}
	}
	if o := g.Organisation; o != nil && o.Telephone == "" && o.Email == "" {
		r.warn(gpc+".organisation", "should give a telephone or an email", "")
	}
	if err := sctid.CheckConcept(g.TypeCode); err != nil {
		reason := "must be a SNOMED CT concept id for the encounter type: " + err.Error()
		if g.TypeCode == "" {
			reason = "required: the SNOMED CT encounter type, e.g. 325871000000103"
		}
		r.problem(gpc+".typeCode", reason, clip(g.TypeCode))
	}
	if strings.TrimSpace(g.TypeDescription) == "" {
		r.problem(gpc+".typeDescription", "required: the display text of typeCode", "")
	}
}

func checkDateOfBirth(s string, now time.Time, r *report) {
	const name = gpc + ".patient.dateOfBirth"
	if s == "" {
		r.problem(name, "required (YYYY-MM-DD)", "")
		return
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		r.problem(name, "must be a date YYYY-MM-DD", clip(s))
		return
	}
	y, m, dd := now.Date()
	if d.After(time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)) {
		r.problem(name, "must not be in the future", s)
	}
}
