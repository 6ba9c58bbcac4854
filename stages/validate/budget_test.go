package validate

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/pipeline"
)

// TestImageOverDecodeBudget: an image is counted by the bytes its decoded
// form takes (a 16-bit RGBA PNG is 8 bytes a pixel), not by its pixels, and
// one larger than the whole process budget is a problem naming its content,
// refused before its pixels are decoded.
func TestImageOverDecodeBudget(t *testing.T) {
	budget.SetProcessSize(1 << 20) // 1 MiB
	defer budget.SetProcessSize(0)
	encode := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tests := []struct {
		name    string
		data    []byte
		problem string // "" for none
	}{
		// 400×400 = 160,000 pixels, 1.28 MB decoded.
		{"16-bit RGBA", encode(image.NewNRGBA64(image.Rect(0, 0, 400, 400))), "decoding the 400×400-pixel 16-bit PNG image needs 1.3 MB"},
		// The same pixels in 8-bit grey: 160 kB.
		{"8-bit grey", encode(image.NewGray(image.Rect(0, 0, 400, 400))), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			att := &conneqt.Attachment{FileName: "scan.png", MIMEType: "image/png", Data: tt.data}
			s, err := New(Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			doc := &pipeline.Document{Route: conneqt.MustRoute(conneqt.Standard), Message: baseMessage(conneqt.Standard, att)}
			err = s.ProcessAttachment(context.Background(), doc, 0)
			var got []string
			var ve *conneqt.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					got = append(got, p.Name+": "+p.Reason)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.problem == "" && len(got) > 0:
				t.Errorf("problems %q, want none", got)
			case tt.problem != "" && (len(got) != 1 || !strings.HasPrefix(got[0], "attachments[0].content: ") ||
				!strings.Contains(got[0], tt.problem) || !strings.Contains(got[0], "decode budget of 1 MiB")):
				t.Errorf("problems %q, want one for attachments[0].content naming %q", got, tt.problem)
			}
		})
	}
}
