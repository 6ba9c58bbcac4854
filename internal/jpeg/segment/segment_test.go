package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/internal/corpustest"
)

// sample returns a small baseline JPEG as Go writes it (no metadata).
func sample(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{uint8(8 * x), uint8(16 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func appSegment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// exif builds an EXIF APP1 payload with Orientation and a fake GPS string.
func exif(orientation uint16, littleEndian bool) []byte {
	var bo binary.ByteOrder = binary.BigEndian
	hdr := []byte("MM\x00\x2a\x00\x00\x00\x08")
	if littleEndian {
		bo = binary.LittleEndian
		hdr = []byte("II\x2a\x00\x08\x00\x00\x00")
	}
	ifd := make([]byte, 2+12*2+4)
	bo.PutUint16(ifd, 2)
	bo.PutUint16(ifd[2:], 0x010F) // Make, ASCII, count 4, inline
	bo.PutUint16(ifd[4:], 2)
	bo.PutUint32(ifd[6:], 4)
	copy(ifd[10:], "GPS")
	bo.PutUint16(ifd[14:], 0x0112)
	bo.PutUint16(ifd[16:], 3)
	bo.PutUint32(ifd[18:], 1)
	bo.PutUint16(ifd[22:], orientation)
	p := append([]byte("Exif\x00\x00"), hdr...)
	p = append(p, ifd...)
	return append(p, []byte("51.4545N 2.5879W secret-device-serial")...)
}

// withSegments inserts segs after SOI (and after JFIF APP0 when jfif).
func withSegments(base []byte, trailing string, segs ...[]byte) []byte {
	out := []byte{0xFF, SOI}
	for _, s := range segs {
		out = append(out, s...)
	}
	out = append(out, base[2:]...)
	return append(out, trailing...)
}

func decode(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	switch a := a.(type) {
	case *image.YCbCr:
		b, ok := b.(*image.YCbCr)
		return ok && bytes.Equal(a.Y, b.Y) && bytes.Equal(a.Cb, b.Cb) && bytes.Equal(a.Cr, b.Cr)
	case *image.Gray:
		b, ok := b.(*image.Gray)
		return ok && bytes.Equal(a.Pix, b.Pix)
	case *image.CMYK:
		b, ok := b.(*image.CMYK)
		return ok && bytes.Equal(a.Pix, b.Pix)
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func TestStrip(t *testing.T) {
	base := sample(t)
	jfif := appSegment(APP0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
	tests := []struct {
		name        string
		in          []byte
		removed     []string
		orientation int
	}{
		{"clean", base, nil, 0},
		{"exif orientation 6", withSegments(base, "", appSegment(APP1, exif(6, false))), []string{"EXIF metadata (APP1)"}, 6},
		{"exif little endian 3", withSegments(base, "", jfif, appSegment(APP1, exif(3, true))), []string{"EXIF metadata (APP1)"}, 3},
		{"exif orientation 1 dropped", withSegments(base, "", appSegment(APP1, exif(1, false))), []string{"EXIF metadata (APP1)"}, 0},
		{"exif orientation 0 invalid", withSegments(base, "", appSegment(APP1, exif(0, false))), []string{"EXIF metadata (APP1)"}, 0},
		{"exif orientation 9 invalid", withSegments(base, "", appSegment(APP1, exif(9, false))), []string{"EXIF metadata (APP1)"}, 0},
		{"xmp comment iptc", withSegments(base, "",
			appSegment(APP1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>GPS</x:xmpmeta>")),
			appSegment(COM, []byte("taken at 51.45N GPS")),
			appSegment(0xED, []byte("Photoshop 3.0\x00GPS"))),
			[]string{"XMP metadata (APP1)", "comment (COM)", "Photoshop/IPTC metadata (APP13)"}, 0},
		{"icc and adobe kept", withSegments(base, "", appSegment(APP2, []byte("ICC_PROFILE\x00\x01\x01data")), appSegment(APP14, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01"))), nil, 0},
		{"trailing data", withSegments(base, "GPS trailing second image"), []string{"25 bytes after the end of the image"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Strip(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(res.Removed, "|") != strings.Join(tt.removed, "|") {
				t.Errorf("removed %q, want %q", res.Removed, tt.removed)
			}
			if res.Orientation != tt.orientation {
				t.Errorf("orientation %d, want %d", res.Orientation, tt.orientation)
			}
			if bytes.Contains(res.Data, []byte("GPS")) {
				t.Error("metadata left in the output")
			}
			if len(tt.removed) == 0 && !bytes.Equal(res.Data, tt.in) {
				t.Error("clean input changed")
			}
			if again, _ := Strip(res.Data); len(again.Removed) > 0 || !bytes.Equal(again.Data, res.Data) {
				t.Errorf("second strip removed %q", again.Removed)
			}
			info, err := Parse(res.Data)
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != tt.orientation {
				t.Errorf("output orientation %d, want %d", info.Orientation, tt.orientation)
			}
			if !samePixels(decode(t, tt.in), decode(t, res.Data)) {
				t.Error("pixels changed: the strip was not lossless")
			}
		})
	}
}

func TestParse(t *testing.T) {
	base := sample(t)
	info, err := Parse(base)
	if err != nil || info.SOF != 0xC0 || !info.HasDHT || !info.HasEOI || info.Unsupported() != "" {
		t.Errorf("baseline: %+v, %v", info, err)
	}
	noDHT := removeMarker(base, DHT)
	info, err = Parse(noDHT)
	if err != nil || info.HasDHT || !strings.Contains(info.Unsupported(), "Motion-JPEG") {
		t.Errorf("no DHT: %+v %q, %v", info, info.Unsupported(), err)
	}
	lossless := bytes.Clone(base)
	i := bytes.Index(lossless, []byte{0xFF, 0xC0})
	lossless[i+1] = 0xC3
	info, _ = Parse(lossless)
	if !strings.Contains(info.Unsupported(), "lossless") {
		t.Errorf("SOF3: %q", info.Unsupported())
	}
	for _, bad := range [][]byte{nil, []byte("GIF89a"), {0xFF, SOI, 0xFF, APP1, 0xFF, 0xFF}, {0xFF, SOI, 0xFF, SOS, 0, 2}} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = nil error", bad)
		} else if !errors.Is(err, ErrNotJPEG) && !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v", bad, err)
		}
	}
}

func removeMarker(b []byte, m byte) []byte {
	var out []byte
	out = append(out, b[:2]...)
	walk(b, false, func(s Segment) bool {
		if s.Marker != m {
			out = append(out, b[s.Start:s.End]...)
		}
		return true
	})
	return out
}

// TestCorpusOrientation strips the EXIF orientation examples: each keeps
// exactly its orientation (none for 0 and 1) and its pixels.
func TestCorpusOrientation(t *testing.T) {
	dir := corpustest.Dir(t, "jpeg", "exif-orientation")
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(files) == 0 {
		t.Fatal("no orientation examples in the corpus")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := int(f[len(f)-5] - '0')
		if want < 2 {
			want = 0
		}
		res, err := Strip(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if res.Orientation != want {
			t.Errorf("%s: orientation %d, want %d", filepath.Base(f), res.Orientation, want)
		}
		if testing.Short() {
			continue
		}
		if !samePixels(decode(t, data), decode(t, res.Data)) {
			t.Errorf("%s: pixels changed", filepath.Base(f))
		}
	}
}

func FuzzStrip(f *testing.F) {
	base := sample(f)
	f.Add(base)
	f.Add(withSegments(base, "tail", appSegment(APP1, exif(6, false)), appSegment(COM, []byte("c"))))
	f.Add(withSegments(base, "", appSegment(APP1, exif(3, true))))
	f.Add([]byte{0xFF, SOI, 0xFF, 0xC0, 0, 2, 0xFF, SOS, 0, 2, 1, 2, 0xFF, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Strip(data)
		if err != nil {
			return
		}
		again, err := Strip(res.Data)
		if err != nil {
			t.Fatalf("stripped output does not parse: %v", err)
		}
		if !bytes.Equal(again.Data, res.Data) || len(again.Removed) > 0 {
			t.Fatalf("not idempotent: second strip removed %q", again.Removed)
		}
		info, _ := Parse(res.Data)
		for _, m := range info.Metadata {
			if m != "EXIF metadata (APP1)" || res.Orientation == 0 {
				t.Fatalf("metadata %q left", m)
			}
		}
		if info.Trailing != 0 {
			t.Fatalf("trailing bytes left")
		}
	})
}

// progressive builds a one-component progressive JPEG skeleton (no real
// entropy data is needed for the structure) with the given scans, each
// {Ss, Se, Ah<<4|Al}.
func progressive(scans ...[3]byte) []byte {
	b := []byte{0xFF, SOI}
	seg := func(m byte, payload ...byte) {
		n := len(payload) + 2
		b = append(b, 0xFF, m, byte(n>>8), byte(n))
		b = append(b, payload...)
	}
	seg(0xC2, 8, 0, 8, 0, 8, 1, 1, 0x11, 0) // 8x8, one component (id 1)
	seg(DHT, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	for _, s := range scans {
		seg(SOS, 1, 1, 0x00, s[0], s[1], s[2])
		b = append(b, 0x00) // a byte of "entropy data"
	}
	return append(b, 0xFF, EOI)
}

func TestProgressiveCoverage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scans    [][3]byte
		complete bool
	}{
		{"DC then all AC", [][3]byte{{0, 0, 0x00}, {1, 63, 0x00}}, true},
		{"successive approximation refined", [][3]byte{{0, 0, 0x01}, {1, 63, 0x01}, {0, 0, 0x10}, {1, 63, 0x10}}, true},
		{"refinement scans cut off", [][3]byte{{0, 0, 0x01}, {1, 63, 0x01}}, false},
		{"AC bands missing", [][3]byte{{0, 0, 0x00}, {1, 5, 0x00}}, false},
	} {
		info, err := Parse(progressive(tc.scans...))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (info.Incomplete == "") != tc.complete {
			t.Errorf("%s: Incomplete = %q, want complete %v", tc.name, info.Incomplete, tc.complete)
		}
	}
}

func TestCorpusProgressive(t *testing.T) {
	dir := corpustest.Dir(t, "jpeg", "go")
	for name, complete := range map[string]bool{
		"video-001.progressive.jpeg":           true,
		"video-001.q50.410.progressive.jpeg":   true,
		"video-001.progressive.truncated.jpeg": false,
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		info, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if (info.Incomplete == "") != complete {
			t.Errorf("%s: Incomplete = %q, want complete %v", name, info.Incomplete, complete)
		}
	}
}

func TestAdobeSegmentTooShort(t *testing.T) {
	b := []byte{0xFF, SOI, 0xFF, APP14, 0, 11}
	b = append(b, "Adobe\x00\x64\x00\x00"...)
	b = append(b, 0xFF, EOI)
	if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("short Adobe APP14: err = %v, want ErrMalformed", err)
	}
}

// TestHeader: Header visits the segments before the first scan, in
// order, and stops when visit returns false.
func TestHeader(t *testing.T) {
	data := withSegments(sample(t), "", appSegment(APP1, exif(6, false)), appSegment(COM, []byte("c")))
	var all []byte
	if err := Header(data, func(s Segment) bool { all = append(all, s.Marker); return true }); err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || bytes.IndexByte(all, SOS) >= 0 || bytes.IndexByte(all, APP1) < 0 || bytes.IndexByte(all, COM) < 0 {
		t.Fatalf("visited %X: want the header segments, APP1 and COM included, and no SOS", all)
	}
	var first []byte
	_ = Header(data, func(s Segment) bool { first = append(first, s.Marker); return false })
	if len(first) != 1 || first[0] != all[0] {
		t.Errorf("stopping at once visited %X, want %X", first, all[:1])
	}
	for _, bad := range [][]byte{nil, []byte("GIF89a"), {0xFF, SOI, 0xFF, APP1, 0xFF, 0xFF}} {
		if err := Header(bad, func(Segment) bool { return true }); err == nil {
			t.Errorf("Header(%q) = nil error", bad)
		}
	}
}

// FuzzHeader: Header never panics, visits only segments inside the data,
// in order, none of them a scan, and agrees with Parse on the markers
// before the first scan.
func FuzzHeader(f *testing.F) {
	f.Add(sample(f))
	f.Add(withSegments(sample(f), "tail", appSegment(APP1, exif(8, true))))
	f.Add([]byte{0xFF, SOI, 0xFF, DQT, 0, 3, 0, 0xFF, SOS})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []Segment
		err := Header(data, func(s Segment) bool { got = append(got, s); return true })
		end := 0
		for _, s := range got {
			if s.Start < end || s.End <= s.Start || s.End > len(data) || s.Marker == SOS {
				t.Fatalf("segment %+v after offset %d in %d bytes", s, end, len(data))
			}
			end = s.End
		}
		if err != nil {
			return
		}
		var walked []byte
		_, _ = walk(data, false, func(s Segment) bool {
			if s.Marker == SOS {
				return false
			}
			walked = append(walked, s.Marker)
			return true
		})
		for i, s := range got {
			if i >= len(walked) || walked[i] != s.Marker {
				t.Fatalf("Header visited %d segments, the full walk %X", len(got), walked)
			}
		}
	})
}
