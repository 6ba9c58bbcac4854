package pngmeta_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/internal/pngmeta"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// rawChunk is a chunk to rebuild a PNG from; build gives it a valid CRC.
type rawChunk struct {
	typ  string
	body []byte
}

// parseLoose splits data into chunks by their length fields alone (no
// CRC, type or order checks); what does not make a whole chunk is tail.
func parseLoose(data []byte) (chunks []rawChunk, tail []byte) {
	data = bytes.TrimPrefix(data, []byte(pngmeta.Signature))
	for len(data) >= 12 {
		n := binary.BigEndian.Uint32(data)
		if uint64(n) > uint64(len(data)-12) {
			break
		}
		chunks = append(chunks, rawChunk{string(data[4:8]), slices.Clone(data[8 : 8+n])})
		data = data[12+n:]
	}
	return chunks, slices.Clone(data)
}

// build writes the signature, chunks with valid CRCs, then tail.
func build(chunks []rawChunk, tail []byte) []byte {
	out := []byte(pngmeta.Signature)
	for _, c := range chunks {
		out = binary.BigEndian.AppendUint32(out, uint32(len(c.body)))
		start := len(out)
		out = append(out, c.typ...)
		out = append(out, c.body...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
	}
	return append(out, tail...)
}

// idatRun returns the first run of consecutive IDAT chunks, [i, j).
func idatRun(chunks []rawChunk) (i, j int) {
	i = slices.IndexFunc(chunks, func(c rawChunk) bool { return c.typ == "IDAT" })
	if i < 0 {
		return 0, 0
	}
	for j = i; j < len(chunks) && chunks[j].typ == "IDAT"; j++ {
	}
	return i, j
}

// replaceIDAT replaces the first run of IDAT chunks by z split into
// chunks of split bytes (0: one chunk).
func replaceIDAT(chunks []rawChunk, z []byte, split int) []rawChunk {
	i, j := idatRun(chunks)
	if i == j {
		return chunks
	}
	var idats []rawChunk
	for len(z) > 0 || len(idats) == 0 {
		n := len(z)
		if split > 0 {
			n = min(n, split)
		}
		idats = append(idats, rawChunk{"IDAT", z[:n]})
		z = z[n:]
	}
	out := slices.Clone(chunks[:i])
	out = append(out, idats...)
	return append(out, chunks[j:]...)
}

// inflated returns the zlib stream of the first IDAT run and what it
// inflates to (ok false when it does not inflate).
func inflated(chunks []rawChunk) (z, raw []byte, ok bool) {
	i, j := idatRun(chunks)
	for _, c := range chunks[i:j] {
		z = append(z, c.body...)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return z, nil, false
	}
	raw, err = io.ReadAll(zr)
	return z, raw, err == nil
}

func deflate(raw []byte, level int) []byte {
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, level)
	if err != nil {
		panic(err)
	}
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

// maxTestPixels keeps image/png's allocations small: a mutated header can
// declare any size.
const maxTestPixels = 1 << 22

// reference is what image/png decides about data that Chunks accepts: its
// error, or nil. skip is set when the header declares too many pixels to
// decode in a test.
func reference(data []byte, viaImageDecode bool) (err error, skip bool) {
	chunks, _, err := pngmeta.Chunks(data)
	if err != nil {
		return err, false
	}
	if chunks[0].Len >= 8 {
		w := int64(int32(binary.BigEndian.Uint32(data[16:])))
		h := int64(int32(binary.BigEndian.Uint32(data[20:])))
		if w > 0 && h > 0 && w*h > maxTestPixels {
			return nil, true
		}
	}
	if viaImageDecode {
		_, _, err = image.Decode(bytes.NewReader(data))
	} else {
		_, err = png.Decode(bytes.NewReader(data))
	}
	return err, false
}

var offset = regexp.MustCompile(`offset [0-9]+`)

// compare checks that Check (and its image.Decode twin) decide as image/png
// does about data, with the same error, and returns image/png's outcome
// ("ok" or its error) for the tallies; "" when skipped.
func compare(t testing.TB, name string, data []byte) string {
	t.Helper()
	outcome := ""
	for _, via := range []bool{false, true} {
		want, skip := reference(data, via)
		if skip {
			return ""
		}
		var got error
		if via {
			got = pngmeta.CheckViaImageDecode(context.Background(), data)
		} else {
			got = pngmeta.Check(context.Background(), data)
		}
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Errorf("%s (via image.Decode: %v): Check: %v; image/png: %v", name, via, got, want)
		}
		if !via {
			outcome = "ok"
			if want != nil {
				outcome = offset.ReplaceAllString(want.Error(), "offset N")
			}
		} else if (want == nil) != (outcome == "ok") {
			outcome += " / image.Decode disagrees"
		}
	}
	return outcome
}

// mutate returns a variant of the PNG made of chunks: one to three random
// edits at the chunk, header, zlib or row level, every CRC valid so that
// the edit reaches what Check checks.
func mutate(r *rand.Rand, chunks []rawChunk) []byte {
	cs := slices.Clone(chunks)
	for i := range cs {
		cs[i].body = slices.Clone(cs[i].body)
	}
	var tail []byte
	for range 1 + r.IntN(3) {
		cs, tail = mutateOnce(r, cs, tail)
	}
	return build(cs, tail)
}

func mutateOnce(r *rand.Rand, cs []rawChunk, tail []byte) ([]rawChunk, []byte) {
	if len(cs) == 0 {
		return cs, append(tail, byte(r.Uint32()))
	}
	pick := func(typ string) int {
		var idx []int
		for i, c := range cs {
			if c.typ == typ {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return -1
		}
		return idx[r.IntN(len(idx))]
	}
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	z, raw, ok := inflated(cs)
	switch k := r.IntN(20); {
	case k < 2: // a bit flipped in the zlib stream
		if i := pick("IDAT"); i >= 0 && len(cs[i].body) > 0 {
			cs[i].body[r.IntN(len(cs[i].body))] ^= 1 << r.IntN(8)
		}
	case k < 5 && ok && len(raw) > 0: // a row's filter type, or any byte, changed
		raw = slices.Clone(raw)
		pos := r.IntN(len(raw))
		if r.IntN(2) == 0 {
			if rs := rowSize(cs); rs > 0 {
				pos -= pos % rs
			}
		}
		raw[pos] = byte(r.IntN(256))
		if r.IntN(3) == 0 {
			raw[pos] = byte(5 + r.IntN(3))
		}
		cs = replaceIDAT(cs, deflate(raw, r.IntN(10)), 0)
	case k < 7 && ok: // too little or too much image data
		switch n := r.IntN(len(raw) + 1); r.IntN(3) {
		case 0:
			raw = raw[:len(raw)-min(len(raw), 1+r.IntN(4))]
		case 1:
			raw = raw[:n]
		default:
			raw = append(slices.Clone(raw), garbage(1+r.IntN(8))...)
		}
		cs = replaceIDAT(cs, deflate(raw, r.IntN(10)), 0)
	case k < 9 && ok: // split differently, with empty IDATs, or stored
		level := r.IntN(10)
		if r.IntN(3) == 0 {
			level = zlib.NoCompression
		}
		cs = replaceIDAT(cs, deflate(raw, level), []int{0, 1, 7, 100, 4096, 5000}[r.IntN(6)])
		if i := pick("IDAT"); i >= 0 && r.IntN(2) == 0 {
			cs = slices.Insert(cs, i, rawChunk{"IDAT", nil})
		}
	case k < 11 && len(z) > 0: // bytes after or missing from the zlib stream
		switch r.IntN(4) {
		case 0:
			z = append(slices.Clone(z), garbage([]int{1, 2, 17, 4000, 4096, 5000, 9000}[r.IntN(7)])...)
		case 1:
			z = z[:len(z)-1-r.IntN(min(len(z), 6))]
		case 2: // what looks like an empty stored block, after the stream
			z = append(slices.Clone(z), 0, 0, 0, 0xff, 0xff)
		default:
			z = z[:r.IntN(len(z))]
		}
		cs = replaceIDAT(cs, z, []int{0, 0, 3, 1000, 4090, 4096}[r.IntN(6)])
	case k < 12: // an IDAT after the image, maybe after another chunk
		at := len(cs) - 1
		if r.IntN(2) == 0 {
			cs = slices.Insert(cs, at, rawChunk{"tEXt", []byte("a\x00b")})
		}
		cs = slices.Insert(cs, at, rawChunk{"IDAT", garbage(r.IntN(20))})
	case k < 14 && len(cs) > 0 && len(cs[0].body) == 13: // a header field
		h := cs[0].body
		switch r.IntN(8) {
		case 0:
			binary.BigEndian.PutUint32(h[0:], uint32(int(binary.BigEndian.Uint32(h[0:]))+r.IntN(5)-2))
		case 1:
			binary.BigEndian.PutUint32(h[4:], uint32(int(binary.BigEndian.Uint32(h[4:]))+r.IntN(5)-2))
		case 2:
			h[8] = []byte{0, 1, 2, 3, 4, 8, 16, 32}[r.IntN(8)]
		case 3:
			h[9] = byte(r.IntN(8))
		case 4:
			h[12] = byte(r.IntN(3))
		case 5:
			h[10+r.IntN(2)] = 1
		case 6:
			binary.BigEndian.PutUint32(h[r.IntN(2)*4:], []uint32{0, 1 << 31, 1<<31 - 1, 1 << 16}[r.IntN(4)])
		default:
			cs[0].body = h[:12+2*r.IntN(2)]
		}
	case k < 16: // PLTE or tRNS added, moved or resized
		typ := []string{"PLTE", "tRNS"}[r.IntN(2)]
		body := garbage([]int{0, 1, 2, 3, 6, 9, 48, 255, 256, 257, 768, 771}[r.IntN(12)])
		if i := pick(typ); i >= 0 && r.IntN(2) == 0 {
			body = cs[i].body
			cs = slices.Delete(cs, i, i+1)
		}
		cs = slices.Insert(cs, 1+r.IntN(len(cs)), rawChunk{typ, body})
	case k < 18 && len(cs) > 1: // a chunk dropped, doubled or swapped
		i := r.IntN(len(cs))
		switch r.IntN(3) {
		case 0:
			cs = slices.Delete(cs, i, i+1)
		case 1:
			cs = slices.Insert(cs, i, cs[i])
		default:
			if i+1 < len(cs) {
				cs[i], cs[i+1] = cs[i+1], cs[i]
			}
		}
	case k < 19: // IEND with a body, or data after IEND
		if i := pick("IEND"); i >= 0 && r.IntN(2) == 0 {
			cs[i].body = garbage(1 + r.IntN(3))
		} else {
			tail = append(tail, garbage(1+r.IntN(30))...)
		}
	default: // an unknown chunk anywhere but first
		cs = slices.Insert(cs, 1+r.IntN(len(cs)), rawChunk{"zzZz", garbage(r.IntN(5000))})
	}
	return cs, tail
}

// rowSize is the row size of a non-interlaced image (0 if not that).
func rowSize(cs []rawChunk) int {
	if len(cs) == 0 || cs[0].typ != "IHDR" || len(cs[0].body) != 13 || cs[0].body[12] != 0 {
		return 0
	}
	w := int(binary.BigEndian.Uint32(cs[0].body))
	channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[cs[0].body[9]]
	if w <= 0 || w > 1<<20 || channels == 0 {
		return 0
	}
	return 1 + (w*channels*int(cs[0].body[8])+7)/8
}

// generated are PNGs the corpus lacks: a large multi-IDAT photo, 16-bit,
// grey with alpha, paletted with a short palette.
func generated(t testing.TB) map[string][]byte {
	t.Helper()
	enc := func(img image.Image, level png.CompressionLevel) []byte {
		var b bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: level}).Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	g16 := image.NewNRGBA64(image.Rect(0, 0, 61, 23))
	for i := range g16.Pix {
		g16.Pix[i] = byte(i * 13)
	}
	ga := image.NewNRGBA(image.Rect(0, 0, 33, 9))
	for i := range ga.Pix {
		ga.Pix[i] = byte(i / 3)
	}
	grey := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range grey.Pix {
		grey.Pix[i] = byte(i * i)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 19, 11), color.Palette{color.Black, color.White, color.RGBA{200, 0, 0, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = byte(i % 3)
	}
	return map[string][]byte{
		"photo 240x160":       enc(testimage.Photo(240, 160, 1), png.DefaultCompression),
		"photo 240x160 store": enc(testimage.Photo(240, 160, 2), png.NoCompression),
		"graphic 300x200":     enc(testimage.Graphic(300, 200, 12, true), png.BestSpeed),
		"16-bit RGBA":         enc(g16, png.DefaultCompression),
		"grey":                enc(grey, png.BestCompression),
		"RGBA":                enc(ga, png.DefaultCompression),
		"paletted":            enc(pal, png.DefaultCompression),
	}
}

// corpus returns every PNG of the shared corpus, or none without it.
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	root := corpustest.Dir(t, "png")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(strings.ToLower(path), ".png") {
			return err
		}
		data, err := os.ReadFile(path)
		files[filepath.Base(path)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCheckMatchesDecode: for every PNG of the corpus (PngSuite's broken
// x*.png files among them) and generated ones, and for thousands of
// mutations of each with valid CRCs, Check decides as image/png does and
// returns its error. The tallies make sure the mutations reach every
// layer: a Check that skipped the filter types, the amount of data or the
// zlib checksum would fail here.
func TestCheckMatchesDecode(t *testing.T) {
	files := corpus(t)
	for name, data := range generated(t) {
		files[name] = data
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	tally := map[string]int{}
	r := rand.New(rand.NewPCG(14, 2026))
	variants := 60
	if testing.Short() {
		variants = 10
	}
	for _, name := range names {
		data := files[name]
		tally[compare(t, name, data)]++
		chunks, tail := parseLoose(data)
		n := variants
		if len(data) > 1<<20 {
			n = 3 // a large photo: its decodes take long
		}
		for i := range n {
			v := mutate(r, chunks)
			if i == 0 {
				v = build(chunks, tail) // CRCs fixed
			}
			tally[compare(t, name+" variant", v)]++
		}
	}
	for _, want := range []string{
		"ok",
		"png: invalid format: bad filter type",
		"png: invalid format: not enough pixel data",
		"png: invalid format: too much pixel data",
		"png: invalid format: zlib: invalid checksum",
		"png: invalid format: chunk out of order",
		"png: invalid format: bad PLTE length",
		"png: invalid format: bad tRNS length",
		"png: invalid format: bad IEND length",
		"zlib: invalid header",
		"flate: corrupt input before offset",
	} {
		n := 0
		for k, v := range tally {
			if strings.HasPrefix(k, want) {
				n += v
			}
		}
		if n < 5 {
			t.Errorf("only %d variants end in %q: the mutations no longer reach it", n, want)
		}
	}
	total := 0
	for k, v := range tally {
		total += v
		if testing.Verbose() {
			t.Logf("%5d %s", v, k)
		}
	}
	if total < 5000 && !testing.Short() {
		t.Errorf("%d PNGs compared, want thousands", total)
	}
}

// TestCheckTrailingZlibData: bytes after the zlib stream in the last IDAT
// chunk are refused exactly when image/png's reader had not read them when
// the stream ended, which depends on the reader (png.Decode over a
// bytes.Reader, image.Decode through a bufio.Reader) and on where the
// chunk ends.
func TestCheckTrailingZlibData(t *testing.T) {
	base := generated(t)["photo 240x160"]
	chunks, _ := parseLoose(base)
	z, _, ok := inflated(chunks)
	if !ok {
		t.Fatal("the generated PNG does not inflate")
	}
	tests := []struct {
		name     string
		extra    int
		split    int
		wantErrs bool // some reader refuses it
	}{
		{"one byte, one chunk", 1, 0, false},
		{"a whole buffer more, one chunk", 9000, 0, true},
		{"one byte, 4096-byte chunks", 1, 4096, false},
		{"one byte, 4000-byte chunks", 1, 4000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zz := append(slices.Clone(z), make([]byte, tt.extra)...)
			data := build(replaceIDAT(chunks, zz, tt.split), nil)
			out := compare(t, tt.name, data)
			if refused := out != "ok"; refused != tt.wantErrs {
				t.Errorf("outcome %q, want refused: %v", out, tt.wantErrs)
			}
		})
	}
}

// TestCheckContext: a done context stops the check, and the error says so.
func TestCheckContext(t *testing.T) {
	data := generated(t)["photo 240x160"]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := pngmeta.Check(ctx, data); !errors.Is(err, context.Canceled) {
		t.Fatalf("Check with a cancelled context: %v", err)
	}
	if err := pngmeta.Check(context.Background(), data); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// FuzzCheck compares Check with image/png on arbitrary chunk sequences
// (seeded with generated PNGs, and the corpus's when $GPDOC_CORPUS names it),
// their CRCs made valid so that the fuzzer reaches the image data. With
// rezip set, the first run of IDAT chunks holds the inflated image data,
// which is compressed and split into chunks of split bytes first, so that
// the fuzzer edits rows and filter types directly.
func FuzzCheck(f *testing.F) {
	seeds := generated(f)
	if dir := os.Getenv("GPDOC_CORPUS"); dir != "" {
		// The corpus's small PNGs too: interlaced, paletted, broken.
		paths, _ := filepath.Glob(filepath.Join(dir, "png", "*", "*.png"))
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				seeds[p] = data
			}
		}
	}
	for _, data := range seeds {
		if len(data) > 20000 {
			continue
		}
		f.Add(data, false, uint16(0))
		chunks, _ := parseLoose(data)
		if _, raw, ok := inflated(chunks); ok {
			f.Add(build(replaceIDAT(chunks, raw, 0), nil), true, uint16(100))
		}
	}
	f.Add([]byte(pngmeta.Signature), false, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, rezip bool, split uint16) {
		chunks, tail := parseLoose(data)
		if rezip {
			i, j := idatRun(chunks)
			var raw []byte
			for _, c := range chunks[i:j] {
				raw = append(raw, c.body...)
			}
			if i < j {
				chunks = replaceIDAT(chunks, deflate(raw, int(split%10)), int(split))
			}
		}
		compare(t, "input", build(chunks, tail))
		compare(t, "raw input", data)
	})
}

// TestCheckReaderBoundaries: unused bytes after the zlib stream, with the
// IDAT data starting at every alignment to image.Decode's 4 KiB buffer (an
// unknown chunk before it moves it) and chunks of several sizes: both
// readers' decisions are followed, and they do differ.
func TestCheckReaderBoundaries(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, testimage.Photo(100, 60, 4)); err != nil {
		t.Fatal(err)
	}
	chunks, _ := parseLoose(b.Bytes())
	z, _, ok := inflated(chunks)
	if !ok {
		t.Fatal("the generated PNG does not inflate")
	}
	differ := 0
	for pad := 0; pad < 4200; pad += 97 {
		for _, extra := range []int{1, 700, 3000, 5000} {
			for _, split := range []int{0, 1000, 4096, 8192} {
				zz := append(slices.Clone(z), make([]byte, extra)...)
				cs := replaceIDAT(chunks, zz, split)
				cs = slices.Insert(cs, 1, rawChunk{"zzZz", make([]byte, pad)})
				if strings.HasSuffix(compare(t, "padded", build(cs, nil)), "disagrees") {
					differ++
				}
			}
		}
	}
	if differ == 0 {
		t.Error("png.Decode and image.Decode never disagree: the test no longer reaches the difference")
	}
	t.Logf("%d cases where the readers disagree", differ)
}

// TestCheckConcurrent: checks running at once (the validate stage checks
// attachments in parallel, sharing Check's pooled readers) each get the
// result they get alone. Run with -race.
func TestCheckConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	for _, name := range []string{"photo 240x160", "graphic 300x200", "16-bit RGBA", "paletted"} {
		chunks, _ := parseLoose(generated(t)[name])
		inputs = append(inputs, build(chunks, nil))
		for range 6 {
			inputs = append(inputs, mutate(r, chunks))
		}
	}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = fmt.Sprint(pngmeta.Check(context.Background(), in))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range inputs {
				i := (k + g*5) % len(inputs)
				if got := fmt.Sprint(pngmeta.Check(context.Background(), inputs[i])); got != want[i] {
					t.Errorf("input %d: %s at once, %s alone", i, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}
