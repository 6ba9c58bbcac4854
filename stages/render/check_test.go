package render

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// gpMessage is the message of the example manifest's GP Connect line,
// whose consultation (exampleRaw) agrees with it.
func gpMessage(t testing.TB) *conneqt.Message {
	t.Helper()
	raw := `{"type":"GPConnectMessage","subject":{"id":{"value":"9690937286","type":"NHSNumber"}},
	"gpConnectAdditionalInformation":{"recipientType":"For Information","senderReference":"Consultation-1",
	"confidentiality":false,"versionNumber":1,"patient":{"name":{"family":"Ó'Brien","given":"Zoë"},"dateOfBirth":"1975-11-20"},
	"typeCode":"325871000000103","typeDescription":"Remote consultation encounter type (record artifact)"}}`
	var m conneqt.Message
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// consultationWith returns the example consultation with edits applied to
// its JSON (a nil value deletes the key; "patient.family" reaches into the
// patient).
func consultationWith(t testing.TB, edits map[string]any) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(exampleRaw(t), &m); err != nil {
		t.Fatal(err)
	}
	for path, v := range edits {
		obj, key := m, path
		if rest, ok := strings.CutPrefix(path, "patient."); ok {
			obj, key = m["patient"].(map[string]any), rest
		}
		if v == nil {
			delete(obj, key)
		} else {
			obj[key] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func boolPtr(b bool) *bool { return &b }

// tenDigits finds an unmasked NHS number in problem text.
var tenDigits = regexp.MustCompile(`\d{3}[ -]?\d{3}[ -]?\d{4}`)

func TestCheck(t *testing.T) {
	tests := []struct {
		name         string
		consultation map[string]any
		message      func(*conneqt.Message)
		want         []string // "consultation path|message path" of each problem
	}{
		{"agree", nil, nil, nil},
		{"family name differs", nil, func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Patient.Name.Family = "Smith" },
			[]string{"consultation.patient.family|gpConnectAdditionalInformation.patient.name.family"}},
		{"family name differs only in case, spaces and normalisation", map[string]any{"patient.family": "  o\u0301'BRIEN "}, nil, nil},
		{"date of birth differs", nil, func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Patient.DateOfBirth = "1960-01-01" },
			[]string{"consultation.patient.dateOfBirth|gpConnectAdditionalInformation.patient.dateOfBirth"}},
		{"NHS number differs", nil, func(m *conneqt.Message) { m.Subject.ID.Value = "9434765919" },
			[]string{"consultation.patient.nhsNumber|subject.id.value"}},
		{"NHS number written differently", map[string]any{"patient.nhsNumber": "969-093-7286"}, func(m *conneqt.Message) { m.Subject.ID.Value = "969 093 7286" }, nil},
		{"invalid NHS number is left to validation", map[string]any{"patient.nhsNumber": "9690937287"}, nil, nil},
		{"version differs", map[string]any{"version": 1}, func(m *conneqt.Message) {
			m.GPConnectAdditionalInformation.VersionNumber = 2
			m.GPConnectAdditionalInformation.RelatesTo = "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1"
		}, []string{"consultation.relatedDocuments|gpConnectAdditionalInformation.relatesTo",
			"consultation.version|gpConnectAdditionalInformation.versionNumber"}},
		{"message confidential, report not", nil, func(m *conneqt.Message) { m.GPConnectAdditionalInformation.Confidentiality = boolPtr(true) },
			[]string{"consultation.confidential|gpConnectAdditionalInformation.confidentiality"}},
		{"report confidential, message not", map[string]any{"confidential": true}, nil,
			[]string{"consultation.confidential|gpConnectAdditionalInformation.confidentiality"}},
		{"related documents without relatesTo", map[string]any{"relatedDocuments": 2}, nil,
			[]string{"consultation.relatedDocuments|gpConnectAdditionalInformation.relatesTo"}},
		{"replacement relating to one document", map[string]any{"version": 2, "relatedDocuments": 1}, func(m *conneqt.Message) {
			m.GPConnectAdditionalInformation.VersionNumber = 2
			m.GPConnectAdditionalInformation.RelatesTo = "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1"
		}, nil},
		{"absent on one side is not a problem", map[string]any{"patient.family": nil, "patient.dateOfBirth": nil, "version": nil, "confidential": nil, "relatedDocuments": nil},
			func(m *conneqt.Message) { m.Subject.ID.Value = "" }, nil},
		{"absent in the message is not a problem", nil, func(m *conneqt.Message) {
			gp := m.GPConnectAdditionalInformation
			gp.Patient = conneqt.GPPatient{}
			gp.VersionNumber = 0
			gp.Confidentiality = nil
		}, nil},
		{"the issue's example: everything differs", map[string]any{"relatedDocuments": 0}, func(m *conneqt.Message) {
			gp := m.GPConnectAdditionalInformation
			gp.Confidentiality = boolPtr(true)
			gp.VersionNumber = 2
			gp.RelatesTo = "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1"
			gp.Patient = conneqt.GPPatient{Name: conneqt.HumanName{Family: "Smith"}, DateOfBirth: "1960-01-01"}
			m.Subject.ID.Value = "9434765919"
		}, []string{
			"consultation.confidential|gpConnectAdditionalInformation.confidentiality",
			"consultation.patient.dateOfBirth|gpConnectAdditionalInformation.patient.dateOfBirth",
			"consultation.patient.family|gpConnectAdditionalInformation.patient.name.family",
			"consultation.patient.nhsNumber|subject.id.value",
			"consultation.relatedDocuments|gpConnectAdditionalInformation.relatesTo",
			"consultation.version|gpConnectAdditionalInformation.versionNumber",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := gpMessage(t)
			if tt.message != nil {
				tt.message(msg)
			}
			doc := &pipeline.Document{Message: msg, Consultation: consultationWith(t, tt.consultation)}
			ps := Check(doc)
			var got []string
			for _, p := range ps {
				other := ""
				for _, path := range []string{pathMsgFamily, pathMsgDOB, pathMsgVersion, pathMsgConf, pathMsgRelates, pathMsgSubject} {
					if strings.Contains(p.Reason, path) {
						other = path
					}
				}
				got = append(got, p.Name+"|"+other)
				if tenDigits.MatchString(p.String()) {
					t.Errorf("problem shows an NHS number: %s", p)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check = %v\nwant %v\n(%v)", got, tt.want, ps)
			}
		})
	}
}

func TestCheckNHSNumberMasked(t *testing.T) {
	msg := gpMessage(t)
	msg.Subject.ID.Value = "9434765919"
	ps := Check(&pipeline.Document{Message: msg, Consultation: exampleRaw(t)})
	if len(ps) != 1 || !strings.Contains(ps[0].Reason, "969***7286") || !strings.Contains(ps[0].Reason, "943***5919") {
		t.Errorf("problems %v: want one naming both numbers masked", ps)
	}
}

// TestCheckOtherRoutes: without gpConnectAdditionalInformation only the
// NHS number is compared, and only with an NHS-number subject.
func TestCheckOtherRoutes(t *testing.T) {
	msg := &conneqt.Message{Subject: conneqt.Party{ID: conneqt.Identifier{Value: "943 476 5919", Type: conneqt.IDVerifiedNHSNumber}}}
	doc := &pipeline.Document{Message: msg, Consultation: consultationWith(t, map[string]any{"version": 3, "confidential": true})}
	if ps := Check(doc); len(ps) != 1 || ps[0].Name != pathNHS {
		t.Errorf("standard route: problems %v, want one at %s", ps, pathNHS)
	}
	msg.Subject.ID.Type = conneqt.IDOdsOrganisation
	if ps := Check(doc); len(ps) != 0 {
		t.Errorf("subject not an NHS number: problems %v", ps)
	}
	for _, raw := range []string{"", "null", "[1]", `{"version": "x"}`} {
		if ps := Check(&pipeline.Document{Message: gpMessage(t), Consultation: json.RawMessage(raw)}); ps != nil {
			t.Errorf("consultation %q: problems %v, want none (Parse reports it)", raw, ps)
		}
	}
	if Check(nil) != nil || Check(&pipeline.Document{}) != nil {
		t.Error("Check of an empty document found problems")
	}
}

func TestFill(t *testing.T) {
	tests := []struct {
		name         string
		consultation map[string]any
		message      func(*conneqt.Message)
		want         []string // "path filled<-path it came from"
		check        func(t *testing.T, c *Consultation, m *conneqt.Message)
	}{
		{"nothing to fill", nil, nil, nil, nil},
		{"consultation from the message",
			map[string]any{"patient.family": nil, "patient.dateOfBirth": " ", "patient.nhsNumber": nil, "version": nil, "confidential": nil, "relatedDocuments": nil},
			func(m *conneqt.Message) {
				gp := m.GPConnectAdditionalInformation
				gp.VersionNumber, gp.RelatesTo, gp.Confidentiality = 2, "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1", boolPtr(true)
			},
			[]string{
				"consultation.confidential<-gpConnectAdditionalInformation.confidentiality",
				"consultation.patient.dateOfBirth<-gpConnectAdditionalInformation.patient.dateOfBirth",
				"consultation.patient.family<-gpConnectAdditionalInformation.patient.name.family",
				"consultation.patient.nhsNumber<-subject.id.value",
				"consultation.relatedDocuments<-gpConnectAdditionalInformation.relatesTo",
				"consultation.version<-gpConnectAdditionalInformation.versionNumber",
			},
			func(t *testing.T, c *Consultation, _ *conneqt.Message) {
				if c.Patient.Family != "Ó'Brien" || c.Patient.DateOfBirth != "1975-11-20" || c.Patient.NHSNumber != "9690937286" ||
					c.Version != 2 || !c.Confidential || c.RelatedDocuments != 1 {
					t.Errorf("filled consultation %+v", c)
				}
				if c.Patient.Given != "Zoë" || len(c.Sections) != 3 {
					t.Error("Fill lost other fields of the consultation")
				}
			}},
		{"message from the consultation", nil,
			func(m *conneqt.Message) {
				gp := m.GPConnectAdditionalInformation
				gp.Patient, gp.VersionNumber, gp.Confidentiality = conneqt.GPPatient{}, 0, nil
				m.Subject.ID.Value = ""
			},
			[]string{
				"gpConnectAdditionalInformation.confidentiality<-consultation.confidential",
				"gpConnectAdditionalInformation.patient.dateOfBirth<-consultation.patient.dateOfBirth",
				"gpConnectAdditionalInformation.patient.name.family<-consultation.patient.family",
				"gpConnectAdditionalInformation.versionNumber<-consultation.version",
				"subject.id.value<-consultation.patient.nhsNumber",
			},
			func(t *testing.T, _ *Consultation, m *conneqt.Message) {
				gp := m.GPConnectAdditionalInformation
				if gp.Patient.Name.Family != "Ó'Brien" || gp.Patient.DateOfBirth != "1975-11-20" || gp.VersionNumber != 1 ||
					gp.Confidentiality == nil || *gp.Confidentiality || m.Subject.ID.Value != "9690937286" {
					t.Errorf("filled message %+v %+v", gp, m.Subject)
				}
			}},
		{"unusable values are not copied", map[string]any{"patient.nhsNumber": "123", "patient.dateOfBirth": "20/11/1975"},
			func(m *conneqt.Message) {
				m.Subject.ID.Value = ""
				m.GPConnectAdditionalInformation.Patient.DateOfBirth = ""
			}, nil, nil},
		{"values are never overwritten", nil, func(m *conneqt.Message) {
			m.GPConnectAdditionalInformation.Patient.Name.Family = "Smith"
		}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := gpMessage(t)
			if tt.message != nil {
				tt.message(msg)
			}
			doc := &pipeline.Document{Message: msg, Consultation: consultationWith(t, tt.consultation)}
			changes := Fill(doc)
			var got []string
			for _, c := range changes {
				got = append(got, c.Name+"<-"+strings.TrimPrefix(c.Action, "filled from "))
				if c.Stage != StageName || tenDigits.MatchString(c.After) {
					t.Errorf("change %+v: wrong stage or an unmasked NHS number", c)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Fill = %v\nwant %v", got, tt.want)
			}
			if again := Fill(doc); len(again) != 0 {
				t.Errorf("a second Fill changed %v", again)
			}
			if tt.check != nil {
				c, err := Parse(doc.Consultation, testNow)
				if err != nil {
					t.Fatalf("filled consultation does not parse: %v", err)
				}
				tt.check(t, c, doc.Message)
			}
		})
	}
}

// TestStageRefusesAMismatchedReport is the case of issue 15: a GP Connect
// line whose consultation describes another patient, version and
// confidentiality is refused with every mismatch, and not rendered.
func TestStageRefusesAMismatchedReport(t *testing.T) {
	msg := gpMessage(t)
	gp := msg.GPConnectAdditionalInformation
	gp.Confidentiality, gp.VersionNumber, gp.RelatesTo = boolPtr(true), 2, "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1"
	gp.Patient = conneqt.GPPatient{Name: conneqt.HumanName{Family: "Smith"}, DateOfBirth: "1960-01-01"}
	msg.Subject.ID.Value = "9434765919"
	doc := &pipeline.Document{Message: msg, Consultation: exampleRaw(t)}
	err := newStage(t, Options{}).ProcessMessage(t.Context(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 6 {
		t.Fatalf("err = %v, want six problems", err)
	}
	if len(msg.Attachments) != 0 {
		t.Error("a mismatched report was rendered")
	}
	// With an invalid consultation as well, every problem comes at once.
	doc = &pipeline.Document{Message: msg, Consultation: consultationWith(t, map[string]any{"clinician": map[string]any{"name": ""}})}
	err = newStage(t, Options{}).ProcessMessage(t.Context(), doc)
	if !errors.As(err, &ve) || len(ve.Problems) != 7 {
		t.Fatalf("err = %v, want seven problems", err)
	}
}

// TestStageFillsAndRenders: a GP Connect line whose consultation leaves out
// the patient's family name and the version is filled from the message and
// rendered with them; the fill-ins are recorded as changes.
func TestStageFillsAndRenders(t *testing.T) {
	msg := gpMessage(t)
	msg.GPConnectAdditionalInformation.VersionNumber = 2
	msg.GPConnectAdditionalInformation.RelatesTo = "8c7b1cb4-51ff-49f0-a2be-c7c5592e94f1"
	doc := &pipeline.Document{Message: msg, Consultation: consultationWith(t, map[string]any{"patient.family": nil, "version": nil, "relatedDocuments": nil})}
	if err := newStage(t, Options{}).ProcessMessage(t.Context(), doc); err != nil {
		t.Fatal(err)
	}
	text := squash(pdftotext(t, msg.Attachments[0].Data, 0, 0))
	for _, want := range []string{"Ó'BRIEN, Zoë (Ms)", "Version 2", "Number of related documents: 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	var filled []string
	for _, c := range doc.Changes() {
		if strings.HasPrefix(c.Action, "filled from") {
			filled = append(filled, c.Name)
		}
	}
	if want := []string{pathFamily, pathRelated, pathVersion}; !slices.Equal(filled, want) {
		t.Errorf("changes recorded for %v, want %v", filled, want)
	}
}

// FuzzCheckFill: for any consultation JSON and message values, Check and
// Fill never panic, Fill is idempotent, after Fill nothing Check reports is
// at a path Fill filled, and no NHS number appears unmasked.
func FuzzCheckFill(f *testing.F) {
	f.Add(string(exampleRaw(f)), "9690937286", "Ó'Brien", "1975-11-20", 1, "", true)
	f.Add(`{"patient":{}}`, "", "", "", 0, "x", false)
	f.Add(`{"patient":null,"version":2}`, "943 476 5919", "Smith", "bad", 3, "id", true)
	f.Add(`[]`, "1", "a", "b", -1, "", false)
	f.Fuzz(func(t *testing.T, consultation, nhs, family, dob string, version int, relatesTo string, hasConf bool) {
		msg := gpMessage(t)
		msg.Subject.ID.Value = nhs
		gp := msg.GPConnectAdditionalInformation
		gp.Patient = conneqt.GPPatient{Name: conneqt.HumanName{Family: family}, DateOfBirth: dob}
		gp.VersionNumber, gp.RelatesTo = version, relatesTo
		if !hasConf {
			gp.Confidentiality = nil
		}
		doc := &pipeline.Document{Message: msg, Consultation: json.RawMessage(consultation)}
		before := Check(doc)
		changes := Fill(doc)
		for _, c := range changes {
			if tenDigits.MatchString(c.After) {
				t.Fatalf("change shows an NHS number: %+v", c)
			}
		}
		if again := Fill(doc); len(again) != 0 {
			t.Fatalf("second Fill changed %v", again)
		}
		after := Check(doc)
		for _, p := range after {
			if tenDigits.MatchString(p.String()) {
				t.Fatalf("problem shows an NHS number: %s", p)
			}
			for _, c := range changes {
				if p.Name == c.Name || strings.Contains(p.Reason, c.Name) {
					t.Fatalf("Fill filled %s but Check reports %s", c.Name, p)
				}
			}
		}
		if len(after) != len(before) {
			t.Fatalf("Fill changed the problems from %v to %v", before, after)
		}
	})
}
