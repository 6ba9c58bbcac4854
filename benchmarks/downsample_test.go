package benchmarks

import (
	"bytes"
	"context"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/gpdoc/gpdoc/internal/memprobe"

	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/stages/downsample"
)

// BenchmarkDownsample fits generated photo-like images under the 5 MB
// limit: a 24 MP JPEG saved at quality 95 (about 11 MB; transcoded in the
// DCT domain) and a 12 MP PNG (about 25 MB, falls back to JPEG); and the
// same JPEG under 1.5 MB, which takes the pixel path (decode, scale,
// encode) because quality 60 at full size does not fit. Besides time and allocations it
// reports the output size, the full-size and sample encodes per fit, and
// the peak heap above the starting level (sampled every millisecond).
func BenchmarkDownsample(b *testing.B) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, testimage.Photo(6000, 4000, 1), &jpeg.Options{Quality: 95}); err != nil {
		b.Fatal(err)
	}
	var pngb bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&pngb, testimage.Photo(4000, 3000, 2)); err != nil {
		b.Fatal(err)
	}
	f, err := downsample.NewFitter(downsample.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name string
		data []byte
		fit  func() ([]byte, downsample.Report, error)
	}{
		{"24MP-jpeg", jpg.Bytes(), func() ([]byte, downsample.Report, error) {
			return f.FitJPEG(ctx, jpg.Bytes(), downsample.DefaultMaxBytes)
		}},
		{"24MP-jpeg-1.5MB", jpg.Bytes(), func() ([]byte, downsample.Report, error) {
			return f.FitJPEG(ctx, jpg.Bytes(), 1_500_000)
		}},
		{"12MP-png", pngb.Bytes(), func() ([]byte, downsample.Report, error) {
			return f.FitPNG(ctx, pngb.Bytes(), downsample.DefaultMaxBytes, downsample.PNGLosslessThenJPEG)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			var outBytes, encodes, samples int
			var peak uint64
			for b.Loop() {
				var out []byte
				var rep downsample.Report
				p := memprobe.Peak(func() {
					out, rep, err = c.fit()
				})
				if err != nil {
					b.Fatal(err)
				}
				if len(out) > downsample.DefaultMaxBytes || len(out) == 0 {
					b.Fatalf("output %d bytes over the limit", len(out))
				}
				outBytes, encodes, samples = len(out), rep.Encodes, rep.SampleEncodes
				peak = max(peak, p)
			}
			b.ReportMetric(float64(outBytes), "out-bytes")
			b.ReportMetric(float64(encodes), "encodes/fit")
			b.ReportMetric(float64(samples), "sample-encodes/fit")
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		})
	}
}
