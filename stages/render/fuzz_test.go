package render

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// FuzzParse checks that any input either parses into a consultation that
// renders, or is refused with problems under "consultation" — never a panic
// or another kind of error.
func FuzzParse(f *testing.F) {
	f.Add(exampleRaw(f))
	if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "render", "short.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"patient":{"nhsNumber":"943-476-5919"},"codedItems":[{"code":"407554009","value":"1e400"}]}`))
	s := newStage(f, Options{MaxPages: 5})
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := Parse(raw, testNow)
		if err != nil {
			var ve *conneqt.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Parse error %v is not a validation error", err)
			}
			for _, p := range ve.Problems {
				if len(p.Name) < 12 || p.Name[:12] != "consultation" {
					t.Fatalf("problem path %q not under consultation", p.Name)
				}
			}
			return
		}
		if _, err := s.Render(t.Context(), c, time.Time{}); err != nil && !errors.Is(err, conneqt.ErrInvalid) {
			t.Fatalf("Render: %v", err)
		}
	})
}
