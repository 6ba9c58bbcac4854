package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/backfill"
)

// badManifest writes, beside copies of testdata/examples' files, a
// manifest of the three example lines (valid, one per route) and a bad
// line on every route: consultations dated in the future, without a family
// name, with an invalid NHS number; an oversize text file; a bad NHS number,
// SNOMED code and expiry; a GP Connect subject with no id type; plus
// changes the pipeline makes (a recipient "unk", id types left out).
func badManifest(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "examples")
	for _, f := range []string{"consultation-note.txt", "discharge-letter.pdf", "wound-photo.jpg"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("Chest clear. "), 6_000_000/13) // 6 MB of text: cannot be downsampled
	if err := os.WriteFile(filepath.Join(dir, "big.txt"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	four := bytes.Repeat([]byte("Chest clear. "), 4_000_000/13) // over the Base64 reading only
	if err := os.WriteFile(filepath.Join(dir, "four.txt"), four, 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(src, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var examples []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		examples = append(examples, m)
	}
	std, inst, gpc := examples[0], examples[1], examples[2]
	// clone deep-copies an example line and applies edits to it.
	clone := func(m map[string]any, sourceID string, edit func(m map[string]any)) map[string]any {
		b, _ := json.Marshal(m)
		var c map[string]any
		json.Unmarshal(b, &c)
		c["sourceId"] = sourceID
		edit(c)
		return c
	}
	obj := func(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
	badConsultation := func(m map[string]any) {
		c := obj(m, "consultation")
		c["consultationDateTime"] = "2099-01-01T09:00:00Z"
		p := obj(c, "patient")
		p["family"] = ""
		p["nhsNumber"] = "1234567890"
	}
	bigText := map[string]any{"fileName": "big.txt", "mimeType": "text/plain", "path": "big.txt"}
	fourText := map[string]any{"fileName": "four.txt", "mimeType": "text/plain", "path": "four.txt"}
	lines := []map[string]any{std, inst, gpc,
		clone(std, "std-bad", func(m map[string]any) {
			delete(obj(obj(m, "recipient"), "id"), "type")
			obj(obj(m, "subject"), "id")["value"] = "9434765918"
			m["attachments"] = append(m["attachments"].([]any), bigText)
			m["consultation"] = gpc["consultation"]
			b, _ := json.Marshal(m["consultation"])
			var c map[string]any
			json.Unmarshal(b, &c)
			m["consultation"] = c
			badConsultation(m)
		}),
		clone(inst, "inst-bad", func(m map[string]any) {
			m["attachments"] = append(m["attachments"].([]any), bigText, fourText)
			m["codedDataItems"] = []any{map[string]any{"code": "407554008", "value": 1}}
			m["expiryDateTime"] = "2001-01-01T00:00:00Z"
		}),
		clone(gpc, "gpc-bad", func(m map[string]any) {
			badConsultation(m)
			obj(obj(m, "recipient"), "id")["value"] = "unk"
			delete(obj(obj(m, "subject"), "id"), "type")
			obj(m, "gpConnectAdditionalInformation")["typeCode"] = "123"
			// The report must describe the message's patient (render.Check).
			obj(obj(m, "gpConnectAdditionalInformation"), "patient")["dateOfBirth"] = "1960-01-01"
		}),
		clone(gpc, "gpc-attachment", func(m map[string]any) {
			m["attachments"] = []any{bigText}
		}),
	}
	var out bytes.Buffer
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(append(b, '\n'))
	}
	path := filepath.Join(dir, "manifest.jsonl")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// outcomeOf is one line's verdict: valid or not, and its problems as
// "path: reason", sorted.
type outcomeOf struct {
	valid    bool
	problems []string
}

func problemKeys(ps []struct{ Name, Reason string }) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+": "+p.Reason)
	}
	slices.Sort(out)
	return out
}

// TestValidateFindsWhatDryRunFinds runs `gpdoc validate` and `gpdoc
// backfill --dry-run` over the same bad manifest, with the default size
// limit and with the Base64 reading of it, and compares what each says of
// every line: valid or not, and the problem set (JSON path and reason).
func TestValidateFindsWhatDryRunFinds(t *testing.T) {
	manifestPath := badManifest(t)
	for _, tt := range []struct {
		name  string
		flags []string
		// want names problems that must be among the bad lines' (so that two
		// runs that both miss them do not pass).
		want map[string][]string
	}{
		{"decoded", nil, map[string][]string{
			"std-bad": {"consultation.consultationDateTime: ", "consultation.patient.family: ", "consultation.patient.nhsNumber: ",
				"subject.id.value: ", "attachments[2].content: too large"},
			"inst-bad": {"attachments[1].content: too large", "codedDataItems[0].code: ", "expiryDateTime: "},
			// The family name the consultation lacks is filled from
			// gpConnectAdditionalInformation (render.Fill); the date of birth
			// that disagrees with it is a problem.
			"gpc-bad":        {"consultation.consultationDateTime: ", "consultation.patient.dateOfBirth: ", "subject.id.type: required on the gpconnect route"},
			"gpc-attachment": {"attachments: "},
		}},
		{"base64", []string{"--max-attachment-bytes", "5000000", "--limit-basis", "base64"}, map[string][]string{
			"inst-bad": {"attachments[1].content: too large", "attachments[2].content: too large: 3999996 bytes (5333328 in Base64), more than the 5000000 bytes of Base64 (3750000 decoded bytes)"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vOut, vCode := execute(t, append(append([]string{"validate", "--json"}, tt.flags...), manifestPath)...)
			validated := map[string]outcomeOf{}
			sc := bufio.NewScanner(strings.NewReader(vOut))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var e struct {
					SourceID string `json:"sourceId"`
					Valid    bool   `json:"valid"`
					Error    string `json:"error"`
					Problem  *struct {
						InvalidParameters []struct{ Name, Reason string } `json:"invalidParameters"`
					} `json:"problem"`
				}
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("validate output %q: %v", sc.Text(), err)
				}
				if e.Error != "" {
					t.Errorf("%s: validate failed: %s", e.SourceID, e.Error)
				}
				o := outcomeOf{valid: e.Valid}
				if e.Problem != nil {
					o.problems = problemKeys(e.Problem.InvalidParameters)
				}
				validated[e.SourceID] = o
			}

			dir := t.TempDir()
			report := filepath.Join(dir, "report.jsonl")
			_, bCode := execute(t, append(append([]string{"backfill", "--dry-run", filepath.Join(dir, "out"), "--report", report, "--progress", "none"},
				tt.flags...), manifestPath)...)
			if vCode != bCode {
				t.Errorf("exit status: validate %d, backfill --dry-run %d", vCode, bCode)
			}
			dry := map[string]outcomeOf{}
			for id, r := range readResults(t, report) {
				var ps []struct{ Name, Reason string }
				for _, p := range r.Problems {
					ps = append(ps, struct{ Name, Reason string }{p.Name, p.Reason})
				}
				if r.Error != "" {
					t.Errorf("%s: dry run failed: %s", id, r.Error)
				}
				dry[r.SourceID] = outcomeOf{valid: r.Outcome == backfill.OutcomeSent || r.Outcome == backfill.OutcomePrepared, problems: problemKeys(ps)}
			}

			if len(validated) != 7 || len(dry) != 7 {
				t.Fatalf("validate reported %d lines, the dry run %d; want 7 each", len(validated), len(dry))
			}
			for id, v := range validated {
				d := dry[id]
				if v.valid != d.valid || !slices.Equal(v.problems, d.problems) {
					t.Errorf("%s:\n validate valid=%v %q\n dry run  valid=%v %q", id, v.valid, v.problems, d.valid, d.problems)
				}
				if wants, bad := tt.want[id]; bad || strings.HasSuffix(id, "-bad") {
					if v.valid {
						t.Errorf("%s: valid, want problems", id)
					}
					for _, w := range wants {
						if !slices.ContainsFunc(v.problems, func(p string) bool { return strings.HasPrefix(p, w) }) {
							t.Errorf("%s: no problem starting %q in %q", id, w, v.problems)
						}
					}
				} else if !v.valid && !strings.HasPrefix(id, "gpc-attachment") {
					t.Errorf("%s: an example line is invalid: %q", id, v.problems)
				}
			}
		})
	}
}
