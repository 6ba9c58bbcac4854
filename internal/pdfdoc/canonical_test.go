package pdfdoc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// TestWriteReproducible: the same document written again and again (each
// time read afresh, so pdfcpu's clock and map order change) gives the same
// bytes, which read back with the input's own dates and a file id derived
// from the content.
func TestWriteReproducible(t *testing.T) {
	in := example(t)
	write := func() []byte {
		d, err := Open(in, 1<<24)
		if err != nil {
			t.Fatal(err)
		}
		RemoveActive(d.Ctx)
		out, err := Write(d.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := write()
	for i := range 8 {
		if out := write(); !bytes.Equal(out, first) {
			t.Fatalf("write %d differs from the first (%d vs %d bytes)", i+2, len(out), len(first))
		}
	}
	orig, err := Open(in, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Open(first, 1<<24)
	if err != nil {
		t.Fatalf("the written PDF does not read back: %v", err)
	}
	for _, key := range []string{"CreationDate", "ModDate"} {
		if got, want := infoDate(back.Ctx, key), infoDate(orig.Ctx, key); got != want {
			t.Errorf("%s = %q, want the input's %q", key, got, want)
		}
	}
	if len(back.Ctx.ID) != 2 {
		t.Fatalf("file id %v", back.Ctx.ID)
	}
	if id, ok := back.Ctx.ID[1].(types.HexLiteral); !ok || len(id) != 32 || id == "00000000000000000000000000000000" {
		t.Errorf("file id %v", back.Ctx.ID)
	}
}

func TestCanonicalRefusesOtherLayouts(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("%PDF-1.7\nstartxref\n5\n%%EOF"), example(t)[:100]} {
		if _, err := Canonical(b, "", ""); !errors.Is(err, ErrCanonical) {
			t.Errorf("Canonical(%.20q) = %v", b, err)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add(example(f))
	f.Add([]byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\nxref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<</Size 2/ID[<AB><0123456789ABCDEF0123456789ABCDEF>]>>\nstartxref\n29\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Canonical(b, "(D:20200101000000Z)", "")
		if err != nil {
			return
		}
		again, err := Canonical(out, "(D:20200101000000Z)", "")
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %v", err)
		}
	})
}
