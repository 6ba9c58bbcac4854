package downsample

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gpdoc/gpdoc/internal/testimage"
)

// corpusDir locates ../shared/corpus relative to the repository root (CI
// clones the repo with shared/ beside it), or $GPDOC_CORPUS; it skips the
// test when neither exists.
func corpusDir(t testing.TB, sub string) string {
	t.Helper()
	dirs := []string{filepath.Join("..", "..", "..", "shared", "corpus")}
	if env := os.Getenv("GPDOC_CORPUS"); env != "" {
		dirs = append([]string{env}, dirs...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, sub)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	t.Skipf("corpus %s not found (../shared/corpus beside the repo, or $GPDOC_CORPUS)", sub)
	return ""
}

var (
	photoOnce sync.Once
	photoImg  *image.RGBA
	photoJPEG []byte
)

// photo24MP returns a generated 6000x4000 photo-like image and its
// quality-95 JPEG (about 11 MB), made once per test binary.
func photo24MP(t testing.TB) (*image.RGBA, []byte) {
	t.Helper()
	photoOnce.Do(func() {
		photoImg = testimage.Photo(6000, 4000, 1)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, photoImg, &jpeg.Options{Quality: 95}); err != nil {
			panic(err)
		}
		photoJPEG = b.Bytes()
	})
	return photoImg, photoJPEG
}

var (
	photo4Once sync.Once
	photo4JPEG []byte
)

// photo4MP returns a generated 2400x1600 photo-like JPEG at quality 95
// (about 1.8 MB).
func photo4MP(t testing.TB) []byte {
	t.Helper()
	photo4Once.Do(func() {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, testimage.Photo(2400, 1600, 2), &jpeg.Options{Quality: 95}); err != nil {
			panic(err)
		}
		photo4JPEG = b.Bytes()
	})
	return photo4JPEG
}

// heavy skips a 24 MP case under -race or -short.
func heavy(t *testing.T) {
	t.Helper()
	if raceEnabled || testing.Short() {
		t.Skip("24 MP case: skipped under -race and -short")
	}
}
