package gpdoc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/gpdoc/gpdoc"

// layers are gpdoc's layers, bottom first (docs/architecture.md): a package
// may import packages of its own layer or of a layer below, never above. A
// package belongs to the layer of the longest prefix that names it.
var layers = []struct {
	layer    int
	prefixes []string
}{
	{0, []string{"conneqt", "internal"}},   // the domain and libraries
	{1, []string{"pipeline"}},              // the machinery: Document, stages, Runner; the manifest reader
	{2, []string{"transport"}},             // the conneQt client
	{3, []string{"stages"}},                // the stages and stages.Default
	{4, []string{"transport/conneqttest"}}, // the simulator: judges requests with stages/validate
	{5, []string{"ledger"}},                // delivery ledgers
	{6, []string{"backfill", "metrics"}},   // the exactly-once bulk sender; run metrics
	{7, []string{"cmd", "benchmarks"}},     // programs and benchmarks
}

// layerOf returns the layer of a package path relative to the module, and
// the prefix that decided it.
func layerOf(rel string) (layer int, prefix string, ok bool) {
	for _, l := range layers {
		for _, p := range l.prefixes {
			if (rel == p || strings.HasPrefix(rel, p+"/")) && len(p) > len(prefix) {
				layer, prefix, ok = l.layer, p, true
			}
		}
	}
	return layer, prefix, ok
}

type listedPackage struct {
	ImportPath string
	GoFiles    []string
	Imports    []string
}

// TestLayers fails when a package imports a layer above its own, or when a
// package belongs to no layer.
func TestLayers(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	touchSources(t)
	out, err := exec.Command(goTool, "list", "-json", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	checked := 0
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(p.GoFiles) == 0 || p.ImportPath == module {
			continue // test-only packages, this one
		}
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		from, fromPrefix, ok := layerOf(rel)
		if !ok {
			t.Errorf("package %s belongs to no layer: add it to layers and to docs/architecture.md", rel)
			continue
		}
		checked++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			to, toPrefix, ok := layerOf(dep)
			if ok && to > from {
				t.Errorf("%s (layer %d, %s) imports %s (layer %d, %s), a layer above it", rel, from, fromPrefix, dep, to, toPrefix)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d packages: go list found too little", checked)
	}
}

// touchSources stats every Go file of the module, so that the test cache,
// which does not see what the go list subprocess reads, reruns this test
// whenever a source file or a directory changes.
func touchSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLayerOf(t *testing.T) {
	tests := []struct {
		pkg   string
		layer int
		ok    bool
	}{
		{"conneqt/nhsnumber", 0, true},
		{"internal/jpeg/huffman", 0, true},
		{"pipeline/manifest", 1, true},
		{"transport", 2, true},
		{"stages/downsample", 3, true},
		{"internal/jpeg/coef", 0, true},
		{"transport/conneqttest", 4, true},
		{"ledger/sqlite", 5, true},
		{"backfill", 6, true},
		{"metrics", 6, true},
		{"ledger/open", 5, true},
		{"cmd/gpdoc", 7, true},
		{"conneqtx", 0, false},
		{"tools", 0, false},
	}
	for _, tc := range tests {
		layer, _, ok := layerOf(tc.pkg)
		if ok != tc.ok || (ok && layer != tc.layer) {
			t.Errorf("layerOf(%q) = %d, %v; want %d, %v", tc.pkg, layer, ok, tc.layer, tc.ok)
		}
	}
}
