package assemble_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/stages/sizegate"
)

// TestExampleManifest runs the repository's example manifest through the
// encode and assemble stages: every body is json.Marshal of its wire form and
// decodes back to the files' bytes.
func TestExampleManifest(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "examples")
	f, err := os.Open(filepath.Join(dir, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &pipeline.Runner{Stages: pipeline.Pipeline{sizegate.New(), assemble.NewStage()}}
	n := 0
	for line := range manifest.Read(context.Background(), f, dir) {
		if line.Err != nil {
			t.Fatalf("line %d: %v", line.Number, line.Err)
		}
		doc := line.Doc
		if err := r.Process(context.Background(), doc); err != nil {
			t.Fatalf("line %d: %v", line.Number, err)
		}
		got, err := io.ReadAll(doc.Payload.NewReader())
		if err != nil || int64(len(got)) != doc.Payload.Size() {
			t.Fatalf("line %d: read %d of %d bytes: %v", line.Number, len(got), doc.Payload.Size(), err)
		}
		w, err := assemble.Wire(doc.Route, doc.Message)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := json.Marshal(w); !bytes.Equal(got, want) {
			t.Errorf("line %d: body differs from json.Marshal:\n got %s\nwant %s", line.Number, got, want)
		}
		var back conneqt.Message
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("line %d: %v", line.Number, err)
		}
		if back.Type != doc.Route.MessageType {
			t.Errorf("line %d: type %q, want %q", line.Number, back.Type, doc.Route.MessageType)
		}
		for i, a := range doc.Message.Attachments {
			file, err := os.ReadFile(a.Path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back.Attachments[i].Data, file) {
				t.Errorf("line %d: attachments[%d] does not decode to %s", line.Number, i, a.Path)
			}
		}
		n++
	}
	if n == 0 {
		t.Fatal("no documents in the example manifest")
	}
}
