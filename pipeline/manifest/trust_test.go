package manifest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/pipeline/manifest"
)

const okLine = `{"route":"standard","sourceId":"a","topic":"T","attachments":[{"fileName":"a.txt","mimeType":"text/plain","content":"aGk="}]}`

func TestByteOrderMarkIsAccepted(t *testing.T) {
	lines := readAll(t, "\ufeff"+okLine+"\n"+okLine+"\n", "")
	if len(lines) != 2 || lines[0].Err != nil || lines[1].Err != nil {
		t.Fatalf("lines %+v", lines)
	}
	if lines[0].Hash != lines[1].Hash {
		t.Error("the byte order mark changed the line's hash")
	}
	// Only the file's start may carry one.
	if l := readAll(t, okLine+"\n\ufeff"+okLine+"\n", ""); l[1].Err == nil {
		t.Error("a byte order mark inside the file was accepted")
	}
}

func TestShapeProblems(t *testing.T) {
	tests := []struct {
		name, line string
		wantErr    error  // a line error matching this
		wantText   string // in the line error
		wantProb   string // else a problem at this path
	}{
		{"null attachment", `{"route":"standard","sourceId":"a","attachments":[null]}`, nil, "", "attachments[0]"},
		{"null among attachments", `{"route":"standard","sourceId":"a","attachments":[{"fileName":"a","mimeType":"text/plain","content":"aGk="},null]}`, nil, "", "attachments[1]"},
		{"two subjects", `{"route":"standard","sourceId":"a","subject":{"id":{"value":"9434765919"}},"subject":{"id":{"value":"9547852140"}}}`,
			manifest.ErrDuplicateKey, `"subject"`, ""},
		{"two values deep", `{"route":"standard","sourceId":"a","subject":{"id":{"value":"9434765919","value":"9547852140"}}}`,
			manifest.ErrDuplicateKey, `"subject.id.value"`, ""},
		{"two routes", `{"route":"standard","sourceId":"a","route":"instant"}`, manifest.ErrDuplicateKey, `"route"`, ""},
		{"sourceId not UTF-8", "{\"route\":\"standard\",\"sourceId\":\"a\xff\"}", manifest.ErrInvalidUTF8, `"sourceId"`, ""},
		{"messageId not UTF-8", "{\"route\":\"standard\",\"messageId\":\"\xfe\"}", manifest.ErrInvalidUTF8, `"messageId"`, ""},
		{"attachments not a list", `{"route":"standard","sourceId":"a","attachments":{"fileName":"a"}}`, manifest.ErrMalformed, `"attachments"`, ""},
		{"attachment not an object", `{"route":"standard","sourceId":"a","attachments":[7]}`, manifest.ErrMalformed, `attachments`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := manifest.ParseLine([]byte(tt.line), 1, "/m")
			if tt.wantProb != "" {
				if l.Err != nil {
					t.Fatal(l.Err)
				}
				ps := l.Doc.Problems()
				found := false
				for _, p := range ps {
					found = found || p.Name == tt.wantProb
				}
				if !found {
					t.Errorf("problems %+v, want one at %s", ps, tt.wantProb)
				}
				return
			}
			if l.Err == nil || !errors.Is(l.Err, manifest.ErrMalformed) || (tt.wantErr != nil && !errors.Is(l.Err, tt.wantErr)) ||
				!strings.Contains(l.Err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want %v naming %s", l.Err, tt.wantErr, tt.wantText)
			}
		})
	}
}
