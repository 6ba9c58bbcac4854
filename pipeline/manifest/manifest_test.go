package manifest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
)

func readAll(t *testing.T, input, dir string) []manifest.Line {
	t.Helper()
	var out []manifest.Line
	for l := range manifest.Read(context.Background(), strings.NewReader(input), dir) {
		out = append(out, l)
	}
	return out
}

func TestExamplesManifest(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "examples", "manifest.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var routes []conneqt.RouteName
	for l := range manifest.Read(context.Background(), f, filepath.Dir(path)) {
		if l.Err != nil {
			t.Fatalf("line %d: %v", l.Number, l.Err)
		}
		if ps := l.Doc.Problems(); len(ps) > 0 {
			t.Errorf("line %d: problems %v", l.Number, ps)
		}
		for i, a := range l.Doc.Message.Attachments {
			if a.Path == "" {
				continue
			}
			if _, err := os.Stat(a.Path); err != nil {
				t.Errorf("line %d attachment %d: %v", l.Number, i, err)
			}
		}
		routes = append(routes, l.Doc.Route.Name)
	}
	want := []conneqt.RouteName{conneqt.Standard, conneqt.Instant, conneqt.GPConnect}
	if len(routes) != 3 || routes[0] != want[0] || routes[1] != want[1] || routes[2] != want[2] {
		t.Errorf("routes = %v, want one line per route %v", routes, want)
	}
}

func TestMalformedLineDoesNotStopTheOthers(t *testing.T) {
	input := `{"route":"standard","sourceId":"a","topic":"T","attachments":[{"fileName":"a.txt","mimeType":"text/plain","content":"aGk="}]}
{"route":"standard","sourceId":"b", oops}

{"route":"fax","sourceId":"c"}
{"route":"standard","topic":"T"}
{"route":"standard","sourceId":"d","colour":"blue"}
{"route":"instant","sourceId":"e","topic":"T","attachments":[{"fileName":"a.txt","mimeType":"text/plain","content":"aGk="}]}
`
	lines := readAll(t, input, "/manifests")
	type want struct {
		number int
		ok     bool
		errHas string
	}
	wants := []want{
		{1, true, ""},
		{2, false, "not valid JSON"},
		{4, false, `"fax"`},
		{5, false, `neither "messageId" nor "sourceId"`},
		{6, false, `unknown field "colour"`},
		{7, true, ""},
	}
	if len(lines) != len(wants) {
		t.Fatalf("got %d lines, want %d", len(lines), len(wants))
	}
	for i, w := range wants {
		l := lines[i]
		if l.Number != w.number {
			t.Errorf("line %d reported as number %d", w.number, l.Number)
		}
		if w.ok {
			if l.Err != nil || l.Doc == nil {
				t.Errorf("line %d: %v", w.number, l.Err)
			}
			continue
		}
		if !errors.Is(l.Err, manifest.ErrMalformed) || !strings.Contains(l.Err.Error(), w.errHas) {
			t.Errorf("line %d: err = %v, want ErrMalformed mentioning %s", w.number, l.Err, w.errHas)
		}
		if !strings.HasPrefix(l.Err.Error(), "line ") {
			t.Errorf("line %d: error does not name the line: %v", w.number, l.Err)
		}
	}
}

func TestMessageIDDerivation(t *testing.T) {
	line := []byte(`{"route":"standard","sourceId":"clinic-42","topic":"T","attachments":[]}`)
	a := manifest.ParseLine(line, 1, "")
	b := manifest.ParseLine(line, 9, "")
	if a.Err != nil || b.Err != nil {
		t.Fatal(a.Err, b.Err)
	}
	id := a.Doc.Message.MessageID
	if id != b.Doc.Message.MessageID || id != manifest.DeriveMessageID("clinic-42") {
		t.Errorf("ids differ: %s %s", id, b.Doc.Message.MessageID)
	}
	if id == manifest.DeriveMessageID("clinic-43") {
		t.Error("different sourceIds gave the same id")
	}
	if len(id) != 36 || id[14] != '5' {
		t.Errorf("%q is not a UUID v5", id)
	}
	given := manifest.ParseLine([]byte(`{"route":"standard","messageId":"5fd06ef9-8dfd-41de-af35-0d499fdac876","sourceId":"x"}`), 1, "")
	if given.Doc.Message.MessageID != "5fd06ef9-8dfd-41de-af35-0d499fdac876" {
		t.Errorf("a given messageId was replaced: %s", given.Doc.Message.MessageID)
	}
	if a.Hash == "" || a.Hash != b.Hash || a.Hash == given.Hash {
		t.Errorf("hashes: %q %q %q", a.Hash, b.Hash, given.Hash)
	}
}

func TestFieldProblemsAreRecordedNotFatal(t *testing.T) {
	line := `{"type":"ToolbarInstantMessage","sourceId":"s","attachments":[` +
		`{"fileName":"a","mimeType":"text/plain","content":"not base64!"},` +
		`{"fileName":"b","mimeType":"text/plain","content":"aGk=","path":"b.txt"},` +
		`{"fileName":"c","mimeType":"text/plain"},` +
		`{"fileName":"d","mimeType":"application/pdf","path":"sub/d.pdf"}],` +
		`"body":{"mimeType":"text/plain","content":"x","fileName":"oops.pdf"},` +
		`"codedDataItems":[{"code":"407554009","value":"140","unit":"mmHg"},{"code":"1","value":"high"}]}`
	l := manifest.ParseLine([]byte(line), 3, "/m")
	if l.Err != nil {
		t.Fatal(l.Err)
	}
	d := l.Doc
	if d.Route.Name != conneqt.Instant || d.Message.Type != "ToolbarInstantMessage" {
		t.Errorf("route from type: %v %q", d.Route.Name, d.Message.Type)
	}
	var names []string
	for _, p := range d.Problems() {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "attachments[0].content,attachments[1].content,attachments[2].content" {
		t.Errorf("problems %v", names)
	}
	if got := d.Message.Attachments[3].Path; got != filepath.Join("/m", "sub", "d.pdf") {
		t.Errorf("path = %q", got)
	}
	if w := d.Warnings(); len(w) != 1 || w[0].Name != "body.fileName" {
		t.Errorf("warnings %v", w)
	}
	c := d.Message.CodedDataItems
	if c[0].Units != "mmHg" || c[0].Value == nil || !c[0].Value.Valid || c[0].Value.Text != "140" {
		t.Errorf("coded item 0 = %+v %+v", c[0], c[0].Value)
	}
	if c[1].Value == nil || c[1].Value.Valid {
		t.Errorf("a non-numeric value must be kept and marked invalid: %+v", c[1].Value)
	}
}

func TestOverlongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates over 128 MiB")
	}
	big := `{"route":"standard","sourceId":"x","topic":"` + strings.Repeat("a", manifest.MaxLineBytes) + `"}` + "\n" +
		`{"route":"standard","sourceId":"y","topic":"T"}` + "\n"
	lines := readAll(t, big, "")
	if len(lines) != 2 || lines[0].Err == nil || lines[1].Err != nil || lines[1].Number != 2 {
		t.Fatalf("got %d lines; first err %v", len(lines), lines[0].Err)
	}
}

func FuzzParseLine(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "manifest.jsonl"))
	if err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			f.Add([]byte(l))
		}
	}
	f.Add([]byte(`{"route":"standard","sourceId":"a","codedDataItems":[{"code":"1","value":1e999}]}`))
	f.Add([]byte(`{"type":"GPConnectMessage","messageId":"x","attachments":[{"content":"=="}]}`))
	f.Add([]byte(`{"route":"gpconnect","sourceId":"a","recipient":{"id":{"value":"uNk"}},"subject":{"id":{"value":"9434765919"}}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		l := manifest.ParseLine(line, 1, "/base")
		if (l.Doc == nil) == (l.Err == nil) {
			t.Fatalf("exactly one of Doc and Err must be set: %+v", l)
		}
		if l.Err != nil {
			if !errors.Is(l.Err, manifest.ErrMalformed) {
				t.Fatalf("error does not match ErrMalformed: %v", l.Err)
			}
			return
		}
		if l.Doc.Route == nil || l.Doc.Message.MessageID == "" || l.Doc.Message.Type == "" {
			t.Fatalf("incomplete document from %q", line)
		}
		// Every route allows one recipient id type: it is always filled in.
		if rid := l.Doc.Message.Recipient.ID; rid.Type == "" {
			t.Fatalf("recipient.id.type not filled in from %q", line)
		} else {
			for _, lit := range l.Doc.Route.RecipientLiterals {
				if strings.EqualFold(strings.TrimSpace(rid.Value), lit) && rid.Value != lit {
					t.Fatalf("recipient %q not read as %q", rid.Value, lit)
				}
			}
		}
		for _, a := range l.Doc.Message.Attachments {
			if a.Data == nil && a.Path == "" {
				t.Fatalf("attachment with neither data nor path from %q", line)
			}
		}
	})
}

// TestIdentifierTypesFilledIn: recipient.id.type and subject.id.type left
// out are filled in where the route allows one value, and reported as
// changes; GP Connect's subject, with two, stays empty for validate to
// name. A GP Connect recipient literal in another case is read as the
// literal.
func TestIdentifierTypesFilledIn(t *testing.T) {
	const (
		nhs = `"subject":{"id":{"value":"9434765919"%s}}`
		vnt = `,"type":"VerifiedNhsNumber"`
	)
	for _, tt := range []struct {
		name                  string
		route, recipient, sub string
		wantRecipient         conneqt.Identifier
		wantSubjectType       string
		changes               []string // "name: action after"
	}{
		{"standard, both left out", "standard", `{"id":{"value":"G00001"}}`, fmt.Sprintf(nhs, ""),
			conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}, conneqt.IDVerifiedNHSNumber,
			[]string{"recipient.id.type: filled in OcsClientIdentifier", "subject.id.type: filled in VerifiedNhsNumber"}},
		{"standard, both given", "standard", `{"id":{"value":"G00001","type":"OcsClientIdentifier"}}`, fmt.Sprintf(nhs, vnt),
			conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}, conneqt.IDVerifiedNHSNumber, nil},
		{"standard, wrong type kept for validate", "standard", `{"id":{"value":"G00001","type":"OdsOrganisationId"}}`, fmt.Sprintf(nhs, vnt),
			conneqt.Identifier{Value: "G00001", Type: conneqt.IDOdsOrganisation}, conneqt.IDVerifiedNHSNumber, nil},
		{"instant, recipient type left out", "instant", `{"id":{"value":"GPPRAC001"}}`, fmt.Sprintf(nhs, vnt),
			conneqt.Identifier{Value: "GPPRAC001", Type: conneqt.IDOcsClient}, conneqt.IDVerifiedNHSNumber,
			[]string{"recipient.id.type: filled in OcsClientIdentifier"}},
		{"gpconnect, subject type has two values", "gpconnect", `{"id":{"value":"B86057"}}`, fmt.Sprintf(nhs, ""),
			conneqt.Identifier{Value: "B86057", Type: conneqt.IDOdsOrganisation}, "",
			[]string{"recipient.id.type: filled in OdsOrganisationId"}},
		{"gpconnect, unk", "gpconnect", `{"id":{"value":"unk","type":"OdsOrganisationId"}}`, fmt.Sprintf(nhs, vnt),
			conneqt.Identifier{Value: "UNK", Type: conneqt.IDOdsOrganisation}, conneqt.IDVerifiedNHSNumber,
			[]string{"recipient.id.value: normalised UNK"}},
		{"gpconnect, GPConnect", "gpconnect", `{"id":{"value":"GPConnect","type":"OdsOrganisationId"}}`, fmt.Sprintf(nhs, vnt),
			conneqt.Identifier{Value: "gpconnect", Type: conneqt.IDOdsOrganisation}, conneqt.IDVerifiedNHSNumber,
			[]string{"recipient.id.value: normalised gpconnect"}},
		{"gpconnect, UNK as is", "gpconnect", `{"id":{"value":"UNK","type":"OdsOrganisationId"}}`, fmt.Sprintf(nhs, vnt),
			conneqt.Identifier{Value: "UNK", Type: conneqt.IDOdsOrganisation}, conneqt.IDVerifiedNHSNumber, nil},
		{"standard, unk is an OCS id", "standard", `{"id":{"value":"unk","type":"OcsClientIdentifier"}}`, fmt.Sprintf(nhs, vnt),
			conneqt.Identifier{Value: "unk", Type: conneqt.IDOcsClient}, conneqt.IDVerifiedNHSNumber, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			line := fmt.Sprintf(`{"route":%q,"sourceId":"s","topic":"Health","recipient":%s,%s}`, tt.route, tt.recipient, tt.sub)
			l := manifest.ParseLine([]byte(line), 1, "")
			if l.Err != nil {
				t.Fatal(l.Err)
			}
			m := l.Doc.Message
			if m.Recipient.ID != tt.wantRecipient || m.Subject.ID.Type != tt.wantSubjectType {
				t.Errorf("recipient %+v, subject type %q; want %+v, %q", m.Recipient.ID, m.Subject.ID.Type, tt.wantRecipient, tt.wantSubjectType)
			}
			var got []string
			for _, c := range l.Doc.Changes() {
				if c.Stage != manifest.ChangeStage {
					t.Errorf("change %+v not from stage %q", c, manifest.ChangeStage)
				}
				got = append(got, c.Name+": "+c.Action+" "+c.After)
			}
			if !slices.Equal(got, tt.changes) {
				t.Errorf("changes %q, want %q", got, tt.changes)
			}
		})
	}
}
