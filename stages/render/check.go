package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/pipeline"
)

// JSON paths of the fields the report shares with its message.
const (
	pathFamily       = "consultation.patient.family"
	pathDOB          = "consultation.patient.dateOfBirth"
	pathNHS          = "consultation.patient.nhsNumber"
	pathVersion      = "consultation.version"
	pathConfidential = "consultation.confidential"
	pathRelated      = "consultation.relatedDocuments"

	pathMsgFamily  = "gpConnectAdditionalInformation.patient.name.family"
	pathMsgDOB     = "gpConnectAdditionalInformation.patient.dateOfBirth"
	pathMsgVersion = "gpConnectAdditionalInformation.versionNumber"
	pathMsgConf    = "gpConnectAdditionalInformation.confidentiality"
	pathMsgRelates = "gpConnectAdditionalInformation.relatesTo"
	pathMsgSubject = "subject.id.value"
)

// shared is what the consultation says about the fields it shares with the
// message; nil (or blank) means the consultation leaves the field out.
type shared struct {
	Version          *int  `json:"version"`
	RelatedDocuments *int  `json:"relatedDocuments"`
	Confidential     *bool `json:"confidential"`
	Patient          struct {
		Family      *string `json:"family"`
		DateOfBirth *string `json:"dateOfBirth"`
		NHSNumber   *string `json:"nhsNumber"`
	} `json:"patient"`
}

// decodeShared reads the shared fields of a consultation object; ok is
// false when there is no consultation or it is not a JSON object of the
// right shape (Parse reports that).
func decodeShared(raw json.RawMessage) (s shared, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return s, false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, false
	}
	return s, true
}

func text(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// isNHSSubject reports whether the message's subject is identified by an
// NHS number.
func isNHSSubject(m *conneqt.Message) bool {
	t := m.Subject.ID.Type
	return t == "" || t == conneqt.IDVerifiedNHSNumber || t == conneqt.IDNHSNumber
}

// Check compares a document's consultation with the message it travels in,
// so that the report cannot describe another patient, another version or
// another confidentiality than the message (issue 15;
// docs/spec.md#consultation-report-layout: the version is shown in the PDF and the MESH subject; surname, date of
// birth and NHS number must match the recipient details). With
// gpConnectAdditionalInformation it compares:
//
//	consultation.patient.family       gpConnectAdditionalInformation.patient.name.family
//	consultation.patient.dateOfBirth  gpConnectAdditionalInformation.patient.dateOfBirth
//	consultation.version              gpConnectAdditionalInformation.versionNumber
//	consultation.confidential         gpConnectAdditionalInformation.confidentiality
//	consultation.relatedDocuments     gpConnectAdditionalInformation.relatesTo
//
// and on every route whose subject is an NHS number,
// consultation.patient.nhsNumber with subject.id.value. Family names are
// compared ignoring case, surrounding spaces and Unicode normalisation
// form; NHS numbers after removing spaces and dashes. A GP Connect message
// carries exactly one document, the report, so the only document a report
// can relate to is the one it replaces: relatedDocuments must be 1 with a
// relatesTo and 0 without (a reading of ours; the specification does not
// say).
//
// Each disagreement is one problem named after the consultation's path
// whose reason names the message's path and both values (an NHS number
// masked, 943***5919). A field that one side leaves out is not a problem:
// [Fill] copies it from the other side. Values one side gets wrong on its
// own (a malformed date, an invalid NHS number) are left to Parse and the
// validate stage. Check does not change doc and is safe to call from the
// validate pre-flight.
func Check(doc *pipeline.Document) []conneqt.Problem {
	if doc == nil || doc.Message == nil {
		return nil
	}
	s, ok := decodeShared(doc.Consultation)
	if !ok {
		return nil
	}
	var ps []conneqt.Problem
	mismatch := func(path, other, reason, value string) {
		ps = append(ps, conneqt.Problem{Name: path, Reason: "must match " + other + ": " + reason, Value: value})
	}
	msg := doc.Message

	if isNHSSubject(msg) {
		c, cerr := nhsnumber.Normalise(text(s.Patient.NHSNumber))
		m, merr := nhsnumber.Normalise(msg.Subject.ID.Value)
		if cerr == nil && merr == nil && c != m {
			mismatch(pathNHS, pathMsgSubject, fmt.Sprintf("the report is for NHS number %s, the message for %s", nhsnumber.Mask(c), nhsnumber.Mask(m)), "")
		}
	}

	gp := msg.GPConnectAdditionalInformation
	if gp == nil {
		return ps
	}
	if c, m := text(s.Patient.Family), strings.TrimSpace(gp.Patient.Name.Family); c != "" && m != "" && !sameName(c, m) {
		mismatch(pathFamily, pathMsgFamily, fmt.Sprintf("the report names %q, the message %q", c, m), c)
	}
	if c, m := text(s.Patient.DateOfBirth), strings.TrimSpace(gp.Patient.DateOfBirth); c != "" && m != "" && !sameDate(c, m) {
		mismatch(pathDOB, pathMsgDOB, fmt.Sprintf("the report gives %s, the message %s", c, m), c)
	}
	if s.Version != nil && gp.VersionNumber != 0 && *s.Version != gp.VersionNumber {
		mismatch(pathVersion, pathMsgVersion, fmt.Sprintf("the report would show version %d, the message is version %d", *s.Version, gp.VersionNumber), strconv.Itoa(*s.Version))
	}
	if s.Confidential != nil && gp.Confidentiality != nil && *s.Confidential != *gp.Confidentiality {
		reason := "the message is confidential but the report would print the clinical notes"
		if !*gp.Confidentiality {
			reason = "the report is marked confidential but the message is not"
		}
		mismatch(pathConfidential, pathMsgConf, reason, strconv.FormatBool(*s.Confidential))
	}
	if s.RelatedDocuments != nil {
		relates := strings.TrimSpace(gp.RelatesTo) != ""
		switch n := *s.RelatedDocuments; {
		case relates && n != 1:
			mismatch(pathRelated, pathMsgRelates, fmt.Sprintf("the message replaces an earlier document, so the report relates to 1 document, not %d", n), strconv.Itoa(n))
		case !relates && n != 0:
			mismatch(pathRelated, pathMsgRelates, fmt.Sprintf("the message replaces no earlier document (no relatesTo) and a GP Connect message carries only the report, so it relates to 0 documents, not %d", n), strconv.Itoa(n))
		}
	}
	return ps
}

// sameName compares family names ignoring case, surrounding and repeated
// spaces, and Unicode normalisation form (a precomposed "Ó" equals "O" and a
// combining accent).
func sameName(a, b string) bool {
	clean := func(s string) string { return norm.NFC.String(strings.Join(strings.Fields(s), " ")) }
	return strings.EqualFold(clean(a), clean(b))
}

// sameDate compares two dates of birth: as dates when both are
// YYYY-MM-DD, else as text.
func sameDate(a, b string) bool {
	ta, ea := time.Parse(time.DateOnly, a)
	tb, eb := time.Parse(time.DateOnly, b)
	if ea == nil && eb == nil {
		return ta.Equal(tb)
	}
	return a == b
}

// Fill completes what the consultation and its message share (the fields
// [Check] compares) where one side leaves a field out: the consultation's
// patient family name, date of birth, NHS number, version, confidentiality
// and related-documents count from the message, and the message's
// gpConnectAdditionalInformation patient family name, date of birth,
// versionNumber and confidentiality and its subject.id.value from the
// consultation. Only a GP Connect message (one with
// gpConnectAdditionalInformation) is filled in or fills in. A value is copied only if it is usable (an NHS number that
// is valid, a date that parses) and only where the other side is absent or
// blank, never over a value. doc.Consultation is rewritten (as compact
// JSON with its keys in sorted order) when it gains a field. Fill returns
// the changes it made, one per field, with the path filled and the path it
// came from; the caller records them. It must not run concurrently with
// other stages on doc (call it from a message stage).
func Fill(doc *pipeline.Document) []pipeline.Change {
	if doc == nil || doc.Message == nil {
		return nil
	}
	s, ok := decodeShared(doc.Consultation)
	if !ok {
		return nil
	}
	var changes []pipeline.Change
	consultationChanged := false
	changed := func(path, from, after string) {
		changes = append(changes, pipeline.Change{Name: path, Stage: StageName, Action: "filled from " + from, After: after})
		consultationChanged = consultationChanged || strings.HasPrefix(path, "consultation.")
	}
	top, patient := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	if err := json.Unmarshal(doc.Consultation, &top); err != nil {
		return nil
	}
	if p, ok := top["patient"]; ok && !bytes.Equal(bytes.TrimSpace(p), []byte("null")) {
		if err := json.Unmarshal(p, &patient); err != nil {
			return nil // not an object: Parse reports it
		}
	}
	setPatient := func(key string, v any) {
		b, _ := json.Marshal(v) // strings, ints, bools
		patient[key] = b
	}
	setTop := func(key string, v any) {
		b, _ := json.Marshal(v)
		top[key] = b
	}
	msg := doc.Message

	if isNHSSubject(msg) && msg.GPConnectAdditionalInformation != nil {
		c, cerr := nhsnumber.Normalise(text(s.Patient.NHSNumber))
		m, merr := nhsnumber.Normalise(msg.Subject.ID.Value)
		switch {
		case text(s.Patient.NHSNumber) == "" && merr == nil:
			setPatient("nhsNumber", m)
			changed(pathNHS, pathMsgSubject, nhsnumber.Mask(m))
		case strings.TrimSpace(msg.Subject.ID.Value) == "" && cerr == nil:
			msg.Subject.ID.Value = c
			changed(pathMsgSubject, pathNHS, nhsnumber.Mask(c))
		}
	}

	if gp := msg.GPConnectAdditionalInformation; gp != nil {
		cFamily, mFamily := text(s.Patient.Family), strings.TrimSpace(gp.Patient.Name.Family)
		switch {
		case cFamily == "" && mFamily != "":
			setPatient("family", mFamily)
			changed(pathFamily, pathMsgFamily, mFamily)
		case mFamily == "" && cFamily != "":
			gp.Patient.Name.Family = cFamily
			changed(pathMsgFamily, pathFamily, cFamily)
		}
		cDOB, mDOB := text(s.Patient.DateOfBirth), strings.TrimSpace(gp.Patient.DateOfBirth)
		switch {
		case cDOB == "" && isDate(mDOB):
			setPatient("dateOfBirth", mDOB)
			changed(pathDOB, pathMsgDOB, mDOB)
		case mDOB == "" && isDate(cDOB):
			gp.Patient.DateOfBirth = cDOB
			changed(pathMsgDOB, pathDOB, cDOB)
		}
		switch {
		case s.Version == nil && gp.VersionNumber > 0:
			setTop("version", gp.VersionNumber)
			changed(pathVersion, pathMsgVersion, strconv.Itoa(gp.VersionNumber))
		case gp.VersionNumber == 0 && s.Version != nil && *s.Version > 0:
			gp.VersionNumber = *s.Version
			changed(pathMsgVersion, pathVersion, strconv.Itoa(*s.Version))
		}
		switch {
		case s.Confidential == nil && gp.Confidentiality != nil:
			setTop("confidential", *gp.Confidentiality)
			changed(pathConfidential, pathMsgConf, strconv.FormatBool(*gp.Confidentiality))
		case gp.Confidentiality == nil && s.Confidential != nil:
			v := *s.Confidential
			gp.Confidentiality = &v
			changed(pathMsgConf, pathConfidential, strconv.FormatBool(v))
		}
		if s.RelatedDocuments == nil && strings.TrimSpace(gp.RelatesTo) != "" {
			setTop("relatedDocuments", 1)
			changed(pathRelated, pathMsgRelates, "1")
		}
	}

	if !consultationChanged {
		return changes
	}
	if len(patient) > 0 {
		b, _ := json.Marshal(patient)
		top["patient"] = b
	}
	if b, err := json.Marshal(top); err == nil {
		doc.Consultation = b
	}
	return changes
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
