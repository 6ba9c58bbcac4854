package benchmarks

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/memprobe"
	"github.com/gpdoc/gpdoc/internal/testpdf"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages"
)

// png16Bomb returns a 16-bit RGBA PNG of w×h black pixels, written row by
// row so that the 8 bytes a pixel of its decoded form are never held: at
// 10000×9999 it is about 780 KB and decodes to 800 MB.
func png16Bomb(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, body []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(body)))
		c := append([]byte(typ), body...)
		out.Write(c)
		binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16-bit RGBA
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	zw, err := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	row := make([]byte, 1+8*w) // filter byte 0, then the pixels
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

var (
	hostileOnce      sync.Once
	hostilePDF, bomb []byte
)

// hostileInputs returns the two hostile cases of issue 18: a 7 MB PDF of 20
// pages that all draw one content stream that inflates to 200 MiB, and a
// 16-bit RGBA PNG of 10000×9999 pixels (800 MB decoded).
func hostileInputs(tb testing.TB) (pdf, png []byte) {
	hostileOnce.Do(func() {
		hostilePDF = testpdf.SharedContent(20, 200<<20, 6<<20)
		bomb = png16Bomb(tb, 10000, 9999)
	})
	return hostilePDF, bomb
}

func hostileDoc(i int, name, mime string, data []byte) *pipeline.Document {
	return &pipeline.Document{
		Route: conneqt.MustRoute(conneqt.Standard),
		Message: &conneqt.Message{
			MessageID:   "0c6b6a2e-4f1d-4f8e-9a55-3f0d1c2b7e1" + string(rune('0'+i%10)),
			Type:        "ToolbarMessage",
			Topic:       "Health",
			Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
			Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
			Body:        &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Letter"},
			Attachments: []*conneqt.Attachment{{FileName: name, MIMEType: mime, Data: data}},
		},
	}
}

// BenchmarkHostileInputs runs eight copies of each hostile case through
// gpdoc's default pipeline at once (--concurrency 8; a dry run, since
// neither may be sent) and reports the process's peak resident set size
// (peak-RSS-MB, the goal is under 300), the peak Go heap above the start
// (peak-heap-MB) and the problem each document ended with. Each
// iteration must end every document with a problem naming
// attachments[0].content, never an out-of-memory crash.
func BenchmarkHostileInputs(b *testing.B) {
	pdf, png := hostileInputs(b)
	cases := []struct {
		name, file, mime string
		data             []byte
	}{
		{"pdf-200MiB-shared-content-20-pages", "letter.pdf", conneqt.MIMEPDF, pdf},
		{"png-16bit-10000x9999", "scan.png", conneqt.MIMEPNG, png},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p, err := stages.Default(stages.Options{DryRunDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			runner := &pipeline.Runner{Stages: p, MessageConcurrency: 8}
			b.SetBytes(int64(len(c.data)) * 8)
			var rss, heap uint64
			var reason string
			for b.Loop() {
				if !memprobe.ResetPeakRSS() {
					b.Skip("peak RSS cannot be measured here (not Linux?)")
				}
				heap = max(heap, memprobe.Peak(func() {
					docs := func(yield func(*pipeline.Document) bool) {
						for i := range 8 {
							if !yield(hostileDoc(i, c.file, c.mime, c.data)) {
								return
							}
						}
					}
					err = runner.Run(context.Background(), docs, func(doc *pipeline.Document, err error) {
						ps := doc.Problems()
						if len(ps) == 0 || ps[0].Name != "attachments[0].content" {
							b.Errorf("want a problem for attachments[0].content, got %v (%v)", ps, err)
							return
						}
						reason = ps[0].Reason
					})
				}))
				if err != nil {
					b.Fatal(err)
				}
				rss = max(rss, memprobe.PeakRSS())
			}
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
			b.Logf("%s: %s", c.name, reason)
		})
	}
}

// BenchmarkCancelHostilePDF measures how long a run of eight hostile PDFs
// takes to end once its context is cancelled (Ctrl-C): the goal is under
// two seconds.
func BenchmarkCancelHostilePDF(b *testing.B) {
	pdf, _ := hostileInputs(b)
	p, err := stages.Default(stages.Options{DryRunDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	runner := &pipeline.Runner{Stages: p, MessageConcurrency: 8}
	var worst time.Duration
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			docs := func(yield func(*pipeline.Document) bool) {
				for i := range 8 {
					if !yield(hostileDoc(i, "letter.pdf", conneqt.MIMEPDF, pdf)) {
						return
					}
				}
			}
			runner.Run(ctx, docs, func(*pipeline.Document, error) {})
		}()
		time.Sleep(1500 * time.Millisecond) // well into validate, sanitise or downsample
		start := time.Now()
		cancel()
		<-done
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(worst.Seconds(), "s-to-stop")
	if worst > 2*time.Second {
		b.Errorf("a cancelled run took %v to stop", worst)
	}
}
