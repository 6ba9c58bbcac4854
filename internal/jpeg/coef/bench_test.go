package coef

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

var (
	photo24MPOnce sync.Once
	photo24MP     []byte
)

// benchPhoto24MP is a 6000x4000 photo-like image as a quality-95 baseline
// JPEG (about 11 MB), encoded once per test binary.
func benchPhoto24MP(b *testing.B) []byte {
	photo24MPOnce.Do(func() {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, testimage.Photo(6000, 4000, 1), &jpeg.Options{Quality: 95}); err != nil {
			b.Fatal(err)
		}
		photo24MP = buf.Bytes()
	})
	return photo24MP
}

var (
	photo12MPOnce sync.Once
	photo12MP     []byte
)

// benchPhoto12MP is a 4032x3024 photo-like image as a quality-90 baseline
// JPEG (a phone photo's size and quality), encoded once per test binary.
func benchPhoto12MP(b *testing.B) []byte {
	photo12MPOnce.Do(func() {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, testimage.Photo(4032, 3024, 7), &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		photo12MP = buf.Bytes()
	})
	return photo12MP
}

func benchDecode(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode24MP times Decode on a big baseline photo, the transcode
// path's largest serial cost.
func BenchmarkDecode24MP(b *testing.B) {
	benchDecode(b, benchPhoto24MP(b))
}

// BenchmarkCheck12MP times Check on a phone-sized quality-90 baseline
// photo, what the validate stage does to every JPEG photo.
func BenchmarkCheck12MP(b *testing.B) {
	data := benchPhoto12MP(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode12MP times Decode on the same photo (downsample's decode
// of a photo it turns or fits).
func BenchmarkDecode12MP(b *testing.B) {
	benchDecode(b, benchPhoto12MP(b))
}

// BenchmarkDecodeProgressive times Decode on the corpus's progressive
// image (small; a check that the progressive path does not get slower).
func BenchmarkDecodeProgressive(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpustest.Dir(b), "jpeg", "go", "video-001.progressive.jpeg"))
	if err != nil {
		b.Skip(err)
	}
	benchDecode(b, data)
}

// BenchmarkDecodeFile times Decode on the file named by
// $JPEGCOEF_BENCH_FILE (for example a big progressive photo), if set.
func BenchmarkDecodeFile(b *testing.B) {
	name := os.Getenv("JPEGCOEF_BENCH_FILE")
	if name == "" {
		b.Skip("JPEGCOEF_BENCH_FILE not set")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}
