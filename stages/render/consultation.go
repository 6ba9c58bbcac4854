package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/conneqt/sctid"
	"github.com/gpdoc/gpdoc/conneqt/winname"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// Consultation is the manifest line's "consultation" object: the structured
// data a consultation summary report is rendered from. Field names are the
// manifest's. See Parse for the rules.
type Consultation struct {
	// FileName is the report's attachment file name; empty means
	// "Consultation Report - DD-Mmm-YYYY.pdf" (the consultation date).
	FileName string `json:"fileName,omitempty"`
	// Version is 1 for the original report and one more for each
	// replacement of it.
	Version int `json:"version"`
	// RelatedDocuments is the number of documents sent with the report.
	RelatedDocuments int `json:"relatedDocuments"`
	// Confidential hides the clinical content (docs/spec.md#consultation-report-layout).
	Confidential bool `json:"confidential"`
	// Patient is the subject of the consultation.
	Patient Patient `json:"patient"`
	// Clinician is who consulted.
	Clinician Clinician `json:"clinician"`
	// Organisation is the consulting organisation.
	Organisation Organisation `json:"organisation"`
	// ConsultationDateTime is when the consultation took place (RFC 3339).
	ConsultationDateTime string `json:"consultationDateTime"`
	// SentDateTime is when the report is sent (RFC 3339); empty means the
	// time of rendering.
	SentDateTime string `json:"sentDateTime,omitempty"`
	// ReceivingPractice is the patient's registered GP practice.
	ReceivingPractice Practice `json:"receivingPractice"`
	// Sections are the clinical notes, in order.
	Sections []Section `json:"sections,omitempty"`
	// CodedItems are SNOMED CT coded items shown in a table.
	CodedItems []CodedItem `json:"codedItems,omitempty"`
	// FollowUpActions are shown as a list.
	FollowUpActions []string `json:"followUpActions,omitempty"`
}

// Patient is the patient block of the report.
type Patient struct {
	// Title is shown after the name, e.g. "Ms".
	Title string `json:"title,omitempty"`
	// Given is the forename(s).
	Given string `json:"given,omitempty"`
	// Family is the surname (required); the report prints it in capitals.
	Family string `json:"family"`
	// DateOfBirth is YYYY-MM-DD (required); printed DD-Mmm-YYYY.
	DateOfBirth string `json:"dateOfBirth"`
	// NHSNumber is 10 digits with a valid check digit (required); spaces and
	// dashes are allowed. Printed ### ### ####.
	NHSNumber string `json:"nhsNumber"`
	// Gender is printed as given.
	Gender string `json:"gender,omitempty"`
	// HomeAddress is the home or registered address.
	HomeAddress string `json:"homeAddress,omitempty"`
	// Telephone is the home telephone number.
	Telephone string `json:"telephone,omitempty"`
	// Mobile is the mobile telephone number.
	Mobile string `json:"mobile,omitempty"`
	// CurrentAddress is a temporary location, if any; its labels are shown
	// only when it or CurrentTelephone is given.
	CurrentAddress string `json:"currentAddress,omitempty"`
	// CurrentTelephone is the telephone number at the temporary location.
	CurrentTelephone string `json:"currentTelephone,omitempty"`
}

// Clinician is the consulting clinician.
type Clinician struct {
	// Name is the clinician's name as printed, e.g. "Dr Aled Evans" (required).
	Name string `json:"name"`
	// Role is printed after the name, e.g. "General Practitioner".
	Role string `json:"role,omitempty"`
	// Telephone is the clinician's number (else the organisation's is shown).
	Telephone string `json:"telephone,omitempty"`
	// Email is the clinician's address (else the organisation's is shown).
	Email string `json:"email,omitempty"`
}

// Organisation is the consulting organisation.
type Organisation struct {
	// Name is required.
	Name string `json:"name"`
	// Address is the full address, printed after the name.
	Address string `json:"address,omitempty"`
	// Branch is the branch location.
	Branch string `json:"branch,omitempty"`
	// Telephone is the organisation's number.
	Telephone string `json:"telephone,omitempty"`
	// Email is the organisation's address.
	Email string `json:"email,omitempty"`
}

// Practice is the receiving GP practice.
type Practice struct {
	// Name is required.
	Name string `json:"name"`
	// ODSCode is the practice's ODS code (1 to 9 letters and digits).
	ODSCode string `json:"odsCode,omitempty"`
}

// Section is one clinical note section: a title (set in bold) and its notes.
type Section struct {
	// Title is required, e.g. "History".
	Title string `json:"title"`
	// Notes is free text; line breaks and blank lines are kept.
	Notes string `json:"notes"`
}

// CodedItem is one SNOMED CT coded item, a row of the coded items table.
type CodedItem struct {
	// Code is the SNOMED CT identifier (6 to 18 digits).
	Code string `json:"code"`
	// Display is the concept's display text (required).
	Display string `json:"display"`
	// Value is a number or a numeric string, as in the API's codedDataItems.
	Value *conneqt.Number `json:"value,omitempty"`
	// Units are printed beside the value.
	Units string `json:"units,omitempty"`
}

// Limits on free text, so that hostile input cannot make a huge report.
const (
	maxShortText = 1000    // names, addresses, titles...
	maxNotes     = 200_000 // one section's notes
	maxItems     = 500     // sections, coded items, follow-up actions
)

// Parse decodes and checks a consultation object. Problems are reported
// together, as a *conneqt.ValidationError whose problem names are JSON
// paths starting with "consultation" (e.g. "consultation.patient.family");
// now is the time a date of birth or consultation may not be after.
func Parse(raw []byte, now time.Time) (*Consultation, error) {
	var c Consultation
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, conneqt.NewValidationError([]conneqt.Problem{decodeProblem(err)})
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, conneqt.NewValidationError([]conneqt.Problem{{Name: "consultation", Reason: "must be a single JSON object"}})
	}
	if err := c.Validate(now); err != nil {
		return nil, err
	}
	return &c, nil
}

func decodeProblem(err error) conneqt.Problem {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return conneqt.Problem{Name: "consultation." + te.Field, Reason: fmt.Sprintf("must be a JSON %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return conneqt.Problem{Name: "consultation", Reason: "is not valid JSON for a consultation: " + msg}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	}
	return "object"
}

// validator collects problems under the "consultation" path.
type validator struct{ problems []conneqt.Problem }

func (v *validator) add(path, reason, value string) {
	v.problems = append(v.problems, conneqt.Problem{Name: "consultation." + path, Reason: reason, Value: value})
}

// text checks a free-text field: valid UTF-8, not too long, and present if
// required.
func (v *validator) text(path, s string, required bool, limit int) {
	switch {
	case !utf8.ValidString(s):
		v.add(path, "must be valid UTF-8 text", "")
	case required && strings.TrimSpace(s) == "":
		v.add(path, "is required", "")
	case utf8.RuneCountInString(s) > limit:
		v.add(path, fmt.Sprintf("must be at most %d characters", limit), "")
	}
}

// Validate checks c and returns a *conneqt.ValidationError listing every
// problem, or nil. now bounds the dates that may not be in the future.
func (c *Consultation) Validate(now time.Time) error {
	v := &validator{}
	if c.FileName != "" {
		v.fileName("fileName", c.FileName)
	}
	if c.Version < 1 {
		v.add("version", "must be 1 for a first report, more for a replacement", strconv.Itoa(c.Version))
	}
	if c.RelatedDocuments < 0 {
		v.add("relatedDocuments", "must not be negative", strconv.Itoa(c.RelatedDocuments))
	}

	p := c.Patient
	v.text("patient.family", p.Family, true, maxShortText)
	for _, f := range []struct{ path, s string }{
		{"patient.title", p.Title}, {"patient.given", p.Given}, {"patient.gender", p.Gender},
		{"patient.homeAddress", p.HomeAddress}, {"patient.telephone", p.Telephone}, {"patient.mobile", p.Mobile},
		{"patient.currentAddress", p.CurrentAddress}, {"patient.currentTelephone", p.CurrentTelephone},
		{"clinician.role", c.Clinician.Role}, {"clinician.telephone", c.Clinician.Telephone}, {"clinician.email", c.Clinician.Email},
		{"organisation.address", c.Organisation.Address}, {"organisation.branch", c.Organisation.Branch},
		{"organisation.telephone", c.Organisation.Telephone}, {"organisation.email", c.Organisation.Email},
		{"receivingPractice.odsCode", c.ReceivingPractice.ODSCode},
	} {
		v.text(f.path, f.s, false, maxShortText)
	}
	if dob, err := time.Parse(time.DateOnly, p.DateOfBirth); err != nil {
		v.add("patient.dateOfBirth", "must be a date YYYY-MM-DD", p.DateOfBirth)
	} else if dob.After(now) {
		v.add("patient.dateOfBirth", "must not be in the future", p.DateOfBirth)
	}
	if _, err := nhsnumber.Normalise(p.NHSNumber); err != nil {
		// Never echo the number: it identifies the patient.
		v.add("patient.nhsNumber", "must be a 10-digit NHS number with a valid check digit (spaces or dashes allowed)", "")
	}
	v.text("clinician.name", c.Clinician.Name, true, maxShortText)
	v.text("organisation.name", c.Organisation.Name, true, maxShortText)
	v.text("receivingPractice.name", c.ReceivingPractice.Name, true, maxShortText)
	if code := c.ReceivingPractice.ODSCode; code != "" && !validate.IsODSCode(code) {
		v.add("receivingPractice.odsCode", "must be an ODS code of 1 to 9 letters and digits", code)
	}

	if t, err := time.Parse(time.RFC3339, c.ConsultationDateTime); err != nil {
		v.add("consultationDateTime", "must be an RFC 3339 date and time, e.g. 2026-11-20T14:30:00Z", c.ConsultationDateTime)
	} else if t.After(now.Add(5 * time.Minute)) {
		v.add("consultationDateTime", "must not be in the future", c.ConsultationDateTime)
	}
	if c.SentDateTime != "" {
		if _, err := time.Parse(time.RFC3339, c.SentDateTime); err != nil {
			v.add("sentDateTime", "must be an RFC 3339 date and time, e.g. 2026-11-20T16:00:00Z", c.SentDateTime)
		}
	}

	if len(c.Sections) > maxItems {
		v.add("sections", fmt.Sprintf("must have at most %d sections", maxItems), "")
	}
	for i, s := range c.Sections {
		v.text(conneqt.IndexField("sections", i, "title"), s.Title, true, maxShortText)
		v.text(conneqt.IndexField("sections", i, "notes"), s.Notes, false, maxNotes)
	}
	if len(c.CodedItems) > maxItems {
		v.add("codedItems", fmt.Sprintf("must have at most %d items", maxItems), "")
	}
	for i, it := range c.CodedItems {
		if err := sctid.CheckConcept(it.Code); err != nil {
			v.add(conneqt.IndexField("codedItems", i, "code"), "must be a SNOMED CT concept id: "+err.Error(), it.Code)
		}
		v.text(conneqt.IndexField("codedItems", i, "display"), it.Display, true, maxShortText)
		v.text(conneqt.IndexField("codedItems", i, "units"), it.Units, false, maxShortText)
		if it.Value != nil && !it.Value.Valid {
			v.add(conneqt.IndexField("codedItems", i, "value"), "must be a number", it.Value.Text)
		}
	}
	if len(c.FollowUpActions) > maxItems {
		v.add("followUpActions", fmt.Sprintf("must have at most %d actions", maxItems), "")
	}
	for i, a := range c.FollowUpActions {
		v.text(conneqt.IndexField("followUpActions", i, ""), a, true, maxShortText)
	}
	return conneqt.NewValidationError(v.problems)
}

// fileName applies the spec's Windows file-name rule (docs/spec.md#file-names)
// and requires a .pdf extension.
func (v *validator) fileName(path, name string) {
	if errs := winname.Check(name); len(errs) > 0 {
		v.add(path, "must be a valid Windows file name: "+errors.Join(errs...).Error(), name)
		return
	}
	if !strings.HasSuffix(strings.ToLower(name), ".pdf") {
		v.add(path, "must end in .pdf", name)
	}
}
