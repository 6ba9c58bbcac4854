package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

func TestParseProblems(t *testing.T) {
	valid := func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(exampleRaw(t), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	set := func(path string, v any) func(map[string]any) {
		return func(m map[string]any) {
			keys := strings.Split(path, ".")
			for _, k := range keys[:len(keys)-1] {
				m = m[k].(map[string]any)
			}
			if v == nil {
				delete(m, keys[len(keys)-1])
			} else {
				m[keys[len(keys)-1]] = v
			}
		}
	}
	tests := []struct {
		name  string
		edit  func(map[string]any)
		paths []string // the problems expected, sorted
	}{
		{"valid", func(map[string]any) {}, nil},
		{"no family name", set("patient.family", " "), []string{"consultation.patient.family"}},
		{"bad date of birth", set("patient.dateOfBirth", "20/11/1975"), []string{"consultation.patient.dateOfBirth"}},
		{"future date of birth", set("patient.dateOfBirth", "2030-01-01"), []string{"consultation.patient.dateOfBirth"}},
		{"bad NHS number check digit", set("patient.nhsNumber", "4857773456"), []string{"consultation.patient.nhsNumber"}},
		{"NHS number with spaces", set("patient.nhsNumber", "969 093 7286"), nil},
		{"NHS number with letters", set("patient.nhsNumber", "969093728X"), []string{"consultation.patient.nhsNumber"}},
		{"version 0", set("version", 0), []string{"consultation.version"}},
		{"negative related documents", set("relatedDocuments", -1), []string{"consultation.relatedDocuments"}},
		{"no clinician", set("clinician.name", ""), []string{"consultation.clinician.name"}},
		{"no organisation", set("organisation.name", nil), []string{"consultation.organisation.name"}},
		{"no practice", set("receivingPractice.name", ""), []string{"consultation.receivingPractice.name"}},
		{"bad ODS code", set("receivingPractice.odsCode", "B86-057"), []string{"consultation.receivingPractice.odsCode"}},
		{"bad consultation time", set("consultationDateTime", "2026-11-20 14:30"), []string{"consultation.consultationDateTime"}},
		{"future consultation", set("consultationDateTime", "2027-01-01T00:00:00Z"), []string{"consultation.consultationDateTime"}},
		{"bad sent time", set("sentDateTime", "yesterday"), []string{"consultation.sentDateTime"}},
		{"bad file name", set("fileName", "report:1.pdf"), []string{"consultation.fileName"}},
		{"file name not pdf", set("fileName", "report.txt"), []string{"consultation.fileName"}},
		{"reserved file name", set("fileName", "CON.pdf"), []string{"consultation.fileName"}},
		{"section without title", func(m map[string]any) {
			m["sections"].([]any)[1].(map[string]any)["title"] = ""
		}, []string{"consultation.sections[1].title"}},
		{"bad SNOMED code", func(m map[string]any) {
			m["codedItems"].([]any)[0].(map[string]any)["code"] = "0123456"
		}, []string{"consultation.codedItems[0].code"}},
		{"non-numeric value", func(m map[string]any) {
			m["codedItems"].([]any)[1].(map[string]any)["value"] = "high"
		}, []string{"consultation.codedItems[1].value"}},
		{"blank follow-up action", set("followUpActions", []any{"ok", ""}), []string{"consultation.followUpActions[1]"}},
		{"several problems", func(m map[string]any) {
			set("patient.family", "")(m)
			set("version", 0)(m)
		}, []string{"consultation.patient.family", "consultation.version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid(t)
			tt.edit(m)
			raw, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(raw, testNow)
			var got []string
			var ve *conneqt.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					got = append(got, p.Name)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want a *conneqt.ValidationError", err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.paths) {
				t.Errorf("problems at %v, want %v (%v)", got, tt.paths, err)
			}
			if err != nil && !errors.Is(err, conneqt.ErrInvalid) {
				t.Error("error does not match conneqt.ErrInvalid")
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct{ raw, path string }{
		{`{"version": "one"}`, "consultation.version"},
		{`{"patient": {"family": 7}}`, "consultation.patient.family"},
		{`{"unknownField": 1}`, "consultation"},
		{`[1, 2]`, "consultation"},
		{`{"version": 1`, "consultation"},
		{`{} {}`, "consultation"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.raw), testNow)
		var ve *conneqt.ValidationError
		if !errors.As(err, &ve) || ve.Problems[0].Name != tt.path {
			t.Errorf("Parse(%s) = %v, want a problem at %s", tt.raw, err, tt.path)
		}
	}
}

func TestParseNeverEchoesNHSNumber(t *testing.T) {
	m := map[string]any{}
	if err := json.Unmarshal(exampleRaw(t), &m); err != nil {
		t.Fatal(err)
	}
	m["patient"].(map[string]any)["nhsNumber"] = "9690937287"
	raw, _ := json.Marshal(m)
	_, err := Parse(raw, testNow)
	if err == nil || strings.Contains(err.Error(), "969093728") {
		t.Errorf("err = %v: want a problem that does not show the number", err)
	}
}

func TestStageProcessMessage(t *testing.T) {
	s := newStage(t, Options{})
	other := &conneqt.Attachment{FileName: "photo.jpg", MIMEType: conneqt.MIMEJPEG, Data: []byte{0xFF, 0xD8}}
	doc := &pipeline.Document{
		Message:      &conneqt.Message{Attachments: []*conneqt.Attachment{other}},
		Consultation: exampleRaw(t),
	}
	if err := s.ProcessMessage(t.Context(), doc); err != nil {
		t.Fatal(err)
	}
	atts := doc.Message.Attachments
	if len(atts) != 2 || atts[1] != other {
		t.Fatalf("attachments = %v, want the report then the photo", atts)
	}
	a := atts[0]
	if a.FileName != "Consultation Report - 20-Nov-2026.pdf" || a.MIMEType != conneqt.MIMEPDF || !a.Generated ||
		!strings.HasPrefix(string(a.Data), "%PDF-") {
		t.Errorf("report attachment = %+v", a)
	}
	validateStrict(t, a.Data)
	ch := doc.Changes()
	if len(ch) != 1 || ch[0].Name != "attachments[0]" || ch[0].Stage != "render" || ch[0].After != a.FileName {
		t.Errorf("changes = %+v", ch)
	}
	// A second run replaces the report rather than adding another.
	if err := s.ProcessMessage(t.Context(), doc); err != nil || len(doc.Message.Attachments) != 2 {
		t.Errorf("second run: err %v, %d attachments, want 2", err, len(doc.Message.Attachments))
	}
	if s.Name() != "render" {
		t.Errorf("Name() = %q", s.Name())
	}
}

func TestStageProcessMessageSkipsAndFails(t *testing.T) {
	s := newStage(t, Options{})
	for _, raw := range []string{"", "null", "  "} {
		doc := &pipeline.Document{Message: &conneqt.Message{}, Consultation: json.RawMessage(raw)}
		if err := s.ProcessMessage(t.Context(), doc); err != nil || len(doc.Message.Attachments) != 0 {
			t.Errorf("consultation %q: err %v, %d attachments; want nothing done", raw, err, len(doc.Message.Attachments))
		}
	}
	doc := &pipeline.Document{Message: &conneqt.Message{}, Consultation: json.RawMessage(`{"version": 0}`)}
	err := s.ProcessMessage(t.Context(), doc)
	if !errors.Is(err, conneqt.ErrInvalid) || len(doc.Message.Attachments) != 0 {
		t.Errorf("invalid consultation: err %v, %d attachments", err, len(doc.Message.Attachments))
	}

	c := map[string]any{}
	_ = json.Unmarshal(exampleRaw(t), &c)
	c["sections"] = []any{map[string]any{"title": "Note", "notes": "Smiled 😀"}}
	raw, _ := json.Marshal(c)
	doc = &pipeline.Document{Message: &conneqt.Message{}, Consultation: raw}
	if err := s.ProcessMessage(t.Context(), doc); err != nil {
		t.Fatal(err)
	}
	if w := doc.Warnings(); len(w) != 1 || !strings.Contains(w[0].Reason, "U+1F600") {
		t.Errorf("warnings = %v, want one naming U+1F600", w)
	}
}

// TestStageInRunner runs the stage through the pipeline's Runner, as the
// default pipeline will.
func TestStageInRunner(t *testing.T) {
	r := &pipeline.Runner{Stages: pipeline.Pipeline{newStage(t, Options{})}}
	doc := &pipeline.Document{Route: &conneqt.Route{}, Message: &conneqt.Message{}, Consultation: exampleRaw(t)}
	if err := r.Process(t.Context(), doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Message.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(doc.Message.Attachments))
	}
}

// TestStageCollectsProblems: with a problem found by an earlier stage, the
// consultation's own problems are added to the same report, and nothing is
// rendered.
func TestStageCollectsProblems(t *testing.T) {
	earlier := pipeline.MessageFunc("validate", func(_ context.Context, doc *pipeline.Document) error {
		return conneqt.NewValidationError([]conneqt.Problem{{Name: "subject.id.value", Reason: "bad"}})
	})
	r := &pipeline.Runner{Stages: pipeline.Pipeline{collecting{earlier}, newStage(t, Options{})}}
	for _, tt := range []struct {
		consultation string
		want         []string
	}{
		{`{"version": 0}`, []string{"consultation.clinician.name", "subject.id.value"}},
		{string(exampleRaw(t)), []string{"subject.id.value"}},
	} {
		doc := &pipeline.Document{Route: &conneqt.Route{}, Message: &conneqt.Message{}, Consultation: json.RawMessage(tt.consultation)}
		err := r.Process(t.Context(), doc)
		var ve *conneqt.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v", err)
		}
		var got []string
		for _, p := range ve.Problems {
			if slices.Contains(tt.want, p.Name) && !slices.Contains(got, p.Name) {
				got = append(got, p.Name)
			}
		}
		if len(got) != len(tt.want) || len(doc.Message.Attachments) != 0 {
			t.Errorf("problems %v (want %v among them), %d attachments (want 0)", ve.Problems, tt.want, len(doc.Message.Attachments))
		}
	}
}

type collecting struct{ pipeline.MessageStage }

func (collecting) CollectsProblems() bool { return true }

func TestFormatters(t *testing.T) {
	tests := []struct{ got, want string }{
		{PatientName(Patient{Family: "Ó'Brien", Given: "Zoë", Title: "Ms"}), "Ó'BRIEN, Zoë (Ms)"},
		{PatientName(Patient{Family: "smith"}), "SMITH"},
		{PatientName(Patient{Family: "van der Berg", Given: "Anna Maria"}), "VAN DER BERG, Anna Maria"},
		{FormatNHSNumber("9434765919"), "943 476 5919"},
		{FormatNHSNumber("123"), "123"},
		{FormatDate(testNow), "21-Nov-2026"},
		{FormatDateTime(testNow), "21-Nov-2026 09:15"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func ExampleParse() {
	raw := []byte(`{"version": 0, "patient": {"family": "Smith", "dateOfBirth": "1980-02-30", "nhsNumber": "9434765919"}}`)
	_, err := Parse(raw, testNow)
	var ve *conneqt.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p.Name)
		}
	}
	// Output:
	// consultation.version
	// consultation.patient.dateOfBirth
	// consultation.clinician.name
	// consultation.organisation.name
	// consultation.receivingPractice.name
	// consultation.consultationDateTime
}

func TestRenderValidates(t *testing.T) {
	c := example(t)
	c.Patient.NHSNumber = "123"
	_, err := newStage(t, Options{}).Render(t.Context(), c, time.Time{})
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || ve.Problems[0].Name != "consultation.patient.nhsNumber" {
		t.Errorf("err = %v, want a problem at consultation.patient.nhsNumber", err)
	}
}
