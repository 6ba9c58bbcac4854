package b64

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// sample returns n deterministic pseudo-random bytes.
func sample(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sizes covers 0, 1, 2 and 3 mod 3, the SIMD threshold, and the chunk edges.
var sizes = []int{0, 1, 2, 3, 4, 5, 6, 27, 28, 29, 30, 31, 32, 45, 100, 1000,
	chunkIn - 1, chunkIn, chunkIn + 1, chunkIn + 2, 3*chunkIn + 4}

func TestEncodedLen(t *testing.T) {
	for _, tc := range []struct{ n, want int64 }{
		{0, 0}, {1, 4}, {2, 4}, {3, 4}, {4, 8}, {5, 8}, {6, 8}, {7, 12},
		{5_000_000, 6_666_668}, {5_000_001, 6_666_668}, {5_000_002, 6_666_672}, {1 << 40, 1466015503704},
	} {
		if got := EncodedLen(tc.n); got != tc.want {
			t.Errorf("EncodedLen(%d) = %d, want %d", tc.n, got, tc.want)
		}
		if tc.n < 1<<30 {
			if ref := int64(base64.StdEncoding.EncodedLen(int(tc.n))); ref != tc.want {
				t.Errorf("encoding/base64 says %d for %d", ref, tc.n)
			}
		}
	}
}

func TestDecodedLen(t *testing.T) {
	for _, n := range []int64{0, 3, 4, 5, 6, 3000, 3001, 3002} {
		if got := DecodedLen(EncodedLen(n)); got < n || got > n+2 {
			t.Errorf("DecodedLen(EncodedLen(%d)) = %d", n, got)
		}
	}
}

func TestEncode(t *testing.T) {
	for _, n := range sizes {
		src := sample(n, uint64(n))
		want := base64.StdEncoding.EncodeToString(src)
		dst := make([]byte, EncodedLen(int64(n)))
		if m := Encode(dst, src); m != len(want) || string(dst) != want {
			t.Fatalf("Encode(%d bytes) differs from encoding/base64 (%d bytes written)", n, m)
		}
		if got := AppendEncode([]byte("x"), src); string(got) != "x"+want {
			t.Fatalf("AppendEncode(%d bytes) differs", n)
		}
		if got := AppendEncode(make([]byte, 0, len(want)+10), src); string(got) != want {
			t.Fatalf("AppendEncode with room (%d bytes) differs", n)
		}
	}
}

func TestEncodeShortDstPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Encode into a short buffer did not panic")
		}
	}()
	Encode(make([]byte, 3), []byte("abc"))
}

func TestImplementation(t *testing.T) {
	switch Implementation() {
	case "segmentio/asm", "encoding/base64":
	default:
		t.Errorf("Implementation() = %q", Implementation())
	}
}

func TestWrite(t *testing.T) {
	for _, n := range sizes {
		src := sample(n, uint64(n)+7)
		var buf bytes.Buffer
		m, err := Write(&buf, src)
		if err != nil || m != EncodedLen(int64(n)) || buf.String() != base64.StdEncoding.EncodeToString(src) {
			t.Fatalf("Write(%d bytes) = %d, %v; output differs: %v", n, m, err, buf.String() != base64.StdEncoding.EncodeToString(src))
		}
	}
}

// failAfter accepts limit bytes, then fails.
type failAfter struct {
	limit int
	err   error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, w.err
	}
	w.limit -= len(p)
	return len(p), nil
}

// short accepts one byte less than asked, without an error.
type short struct{}

func (short) Write(p []byte) (int, error) { return max(len(p)-1, 0), nil }

func TestWriteErrors(t *testing.T) {
	boom := errors.New("boom")
	src := sample(3*chunkIn, 3)
	tests := []struct {
		name string
		w    io.Writer
		want error
	}{
		{"error", &failAfter{limit: chunkOut + 10, err: boom}, boom},
		{"short", short{}, io.ErrShortWrite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Write(tc.w, src); !errors.Is(err, tc.want) {
				t.Errorf("Write: err = %v, want %v", err, tc.want)
			}
			e := NewEncoder(tc.w)
			_, werr := e.Write(src)
			cerr := e.Close()
			if !errors.Is(werr, tc.want) && !errors.Is(cerr, tc.want) {
				t.Errorf("Encoder: Write err = %v, Close err = %v, want %v", werr, cerr, tc.want)
			}
			if _, err := NewReader(src).WriteTo(tc.w); !errors.Is(err, tc.want) {
				t.Errorf("Reader.WriteTo: err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEncoderSplits(t *testing.T) {
	for _, n := range sizes {
		src := sample(n, uint64(n)+11)
		want := base64.StdEncoding.EncodeToString(src)
		for _, step := range []int{1, 2, 3, 4, 7, 4096, chunkIn + 1, n + 1} {
			var buf bytes.Buffer
			e := NewEncoder(&buf)
			for p := src; len(p) > 0; {
				k := min(step, len(p))
				if m, err := e.Write(p[:k]); m != k || err != nil {
					t.Fatalf("Write = %d, %v", m, err)
				}
				p = p[k:]
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if buf.String() != want || e.Written() != int64(len(want)) {
				t.Fatalf("Encoder(%d bytes, writes of %d) differs from encoding/base64", n, step)
			}
		}
	}
}

func TestEncoderCloseAndReset(t *testing.T) {
	var a, b bytes.Buffer
	e := NewEncoder(&a)
	io.WriteString(e, "hello")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := e.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	e.Reset(&b)
	io.WriteString(e, "hi")
	e.Reset(&b) // discards "hi"
	io.WriteString(e, "hey")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if a.String() != "aGVsbG8=" || b.String() != "aGV5" {
		t.Errorf("got %q and %q", a.String(), b.String())
	}
	empty := NewEncoder(&a)
	if err := empty.Close(); err != nil || empty.Written() != 0 {
		t.Errorf("empty Encoder: %v, %d", err, empty.Written())
	}
}

func TestReader(t *testing.T) {
	for _, n := range sizes {
		src := sample(n, uint64(n)+13)
		want := base64.StdEncoding.EncodeToString(src)
		if err := iotest.TestReader(NewReader(src), []byte(want)); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		for _, size := range []int{1, 2, 3, 4, 5, 7, 8, 4096} {
			r := NewReader(src)
			if r.Len() != int64(len(want)) {
				t.Fatalf("Len = %d, want %d", r.Len(), len(want))
			}
			got, err := io.ReadAll(readSize{r, size})
			if err != nil || string(got) != want {
				t.Fatalf("%d bytes read %d at a time differ from encoding/base64 (%v)", n, size, err)
			}
			if r.Len() != 0 {
				t.Fatalf("Len after EOF = %d", r.Len())
			}
		}
	}
}

// readSize reads at most n bytes per call from r.
type readSize struct {
	r io.Reader
	n int
}

func (s readSize) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

func TestReaderThenWriteTo(t *testing.T) {
	src := sample(1000, 5)
	want := base64.StdEncoding.EncodeToString(src)
	for _, first := range []int{0, 1, 2, 3, 5, 9, 600} {
		r := NewReader(src)
		head := make([]byte, first)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatal(err)
		}
		var rest bytes.Buffer
		n, err := r.WriteTo(&rest)
		if err != nil || string(head)+rest.String() != want || n != int64(rest.Len()) {
			t.Fatalf("read %d then WriteTo: differs (%v)", first, err)
		}
	}
	var z Reader
	if n, err := z.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Errorf("zero Reader: %d, %v", n, err)
	}
}

// FuzzEncode checks every shape of the encoder against encoding/base64, with
// the input cut at fuzzed points and read or written in fuzzed step sizes.
func FuzzEncode(f *testing.F) {
	for _, n := range []int{0, 1, 2, 3, 4, 28, 29, 30, 31, 100} {
		f.Add(sample(n, uint64(n)), uint16(1), uint16(3))
	}
	f.Add([]byte("\x00\xff\xfe"), uint16(4), uint16(2))
	f.Fuzz(func(t *testing.T, src []byte, wstep, rstep uint16) {
		want := base64.StdEncoding.EncodeToString(src)
		if got := AppendEncode(nil, src); string(got) != want {
			t.Fatalf("AppendEncode differs")
		}
		var buf bytes.Buffer
		e := NewEncoder(&buf)
		ws := int(wstep%512) + 1
		for p := src; len(p) > 0; {
			k := min(ws, len(p))
			e.Write(p[:k])
			p = p[k:]
		}
		if err := e.Close(); err != nil || buf.String() != want {
			t.Fatalf("Encoder (writes of %d) differs: %v", ws, err)
		}
		rs := int(rstep%512) + 1
		got, err := io.ReadAll(readSize{NewReader(src), rs})
		if err != nil || string(got) != want {
			t.Fatalf("Reader (reads of %d) differs: %v", rs, err)
		}
	})
}
