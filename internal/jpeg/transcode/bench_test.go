package transcode

import (
	"bytes"
	"context"
	"image/jpeg"
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// BenchmarkTranscode12MP: a 12 MP phone-sized photo (4032x3024, quality
// 90, 4:2:0), decoded to coefficients once; each iteration re-encodes it
// as downsample does: turned upright losslessly (orientation 6, the
// source's tables kept) and re-quantised to quality 75 (a fit).
func BenchmarkTranscode12MP(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimage.Photo(4032, 3024, 7), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	src, err := coef.Decode(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		o    int
		q    float64
	}{{"turn", 6, 0}, {"keep", 1, 0}, {"q75", 1, 75}} {
		b.Run(tc.name, func(b *testing.B) {
			t, err := New(src, tc.o)
			if err != nil {
				b.Fatal(err)
			}
			tt, err := t.KeepTables()
			if tc.q > 0 {
				tt, err = t.Tables(tc.q)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := t.Encode(ctx, tt)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "out-bytes")
		})
	}
}
