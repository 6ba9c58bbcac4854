// Package benchmarks holds gpdoc's end-to-end benchmarks. The encode and
// assemble ones measure the hot path of a bulk backfill against the
// machine's limits (copy) and against what a Go user would write by hand
// (json.Marshal). Run: go test -bench . -count 3 ./benchmarks/
package benchmarks

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/b64"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/stages/sizegate"
)

const attachmentBytes = conneqt.DefaultMaxAttachmentBytes // 5 MB, the per-attachment limit

// randomBytes returns n pseudo-random bytes (incompressible, like a PDF or JPEG).
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// maximalMessage is a standard message with 10 attachments of 5 MB: the
// largest the standard route accepts (50 MB raw, about 66.7 MB on the wire).
func maximalMessage() (*conneqt.Route, *conneqt.Message) {
	r := conneqt.MustRoute(conneqt.Standard)
	return r, message(r.MaxAttachments, int(r.MaxAttachmentBytes))
}

// message is a standard message with n attachments of size bytes each.
func message(n, size int) *conneqt.Message {
	m := &conneqt.Message{
		MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876",
		Topic:     "Health",
		Recipient: conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
		Subject:   conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
		Body:      &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Scanned records for SMITH, John"},
		CodedDataItems: []conneqt.CodedDataItem{
			{Code: "407554009", Value: conneqt.NewNumber(140), Units: "mmHg", AdditionalText: "Sitting systolic blood pressure"},
		},
	}
	for i := range n {
		m.Attachments = append(m.Attachments, &conneqt.Attachment{
			FileName: "scan.pdf", MIMEType: conneqt.MIMEPDF, Data: randomBytes(size, uint64(i)),
		})
	}
	return m
}

func rawBytes(m *conneqt.Message) int64 {
	var n int64
	for _, a := range m.Attachments {
		n += int64(len(a.Data))
	}
	return n
}

// BenchmarkEncode is Base64 of one 5 MB attachment. "5MB" is the way gpdoc
// encodes an attachment: streamed (here to io.Discard) through the pooled
// 64 KiB buffer, as a Payload's reader does. "5MB-buffer" is the primitive
// into one 6.7 MB slice, which gpdoc never does: its stores miss the cache.
// MB/s counts input bytes.
func BenchmarkEncode(b *testing.B) {
	b.Logf("encoder: %s", b64.Implementation())
	src := randomBytes(attachmentBytes, 1)
	b.Run("5MB", func(b *testing.B) {
		b.SetBytes(attachmentBytes)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := b64.Write(io.Discard, src); err != nil {
				b.Fatal(err)
			}
		}
	})
	dst := make([]byte, b64.EncodedLen(attachmentBytes))
	b.Run("5MB-buffer", func(b *testing.B) {
		b.SetBytes(attachmentBytes)
		b.ReportAllocs()
		for b.Loop() {
			b64.Encode(dst, src)
		}
	})
}

// BenchmarkAssemble assembles one maximal message and streams its whole body
// to io.Discard, as the send stage streams it to the connection. MB/s counts
// raw attachment bytes. It also reports peak-heap/raw: an upper bound on the
// heap needed for one message (live heap before, which holds the raw
// attachments, plus all bytes allocated while assembling and streaming),
// over the raw attachment bytes.
func BenchmarkAssemble(b *testing.B) {
	r, m := maximalMessage()
	raw := rawBytes(m)
	b.Run("10x5MB", func(b *testing.B) {
		b.SetBytes(raw)
		b.ReportAllocs()
		for b.Loop() {
			p, err := assemble.New(r, m)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, p.NewReader()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakHeapRatio(raw, func() {
			p, _ := assemble.New(r, m)
			io.Copy(io.Discard, p.NewReader())
		}), "peak-heap/raw")
	})
	// The backfill's typical message: one 200 KB PDF.
	small := message(1, 200_000)
	b.Run("1x200KB", func(b *testing.B) {
		b.SetBytes(rawBytes(small))
		b.ReportAllocs()
		for b.Loop() {
			p, err := assemble.New(r, small)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, p.NewReader()); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Assembling without reading: the fixed cost, whatever the attachments'
	// size (it encodes nothing).
	b.Run("10x5MB-build-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := assemble.New(r, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMarshal is what a Go user would write by hand: json.Marshal of the
// same message (conneqt.Message marshals []byte content as Base64).
func BenchmarkMarshal(b *testing.B) {
	_, m := maximalMessage()
	raw := rawBytes(m)
	b.Run("10x5MB", func(b *testing.B) {
		b.SetBytes(raw)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakHeapRatio(raw, func() {
			out, _ := json.Marshal(m)
			runtime.KeepAlive(out)
		}), "peak-heap/raw")
	})
}

// BenchmarkSizeCheck is the size gate (stage sizegate) over a maximal message:
// it decides for every attachment from its length alone. MB/s counts the raw
// bytes judged, to show that it never touches them.
func BenchmarkSizeCheck(b *testing.B) {
	r, m := maximalMessage()
	doc := &pipeline.Document{Route: r, Message: m}
	s := sizegate.New()
	ctx := b.Context()
	b.SetBytes(rawBytes(m))
	b.ReportAllocs()
	for b.Loop() {
		for i := range m.Attachments {
			if err := s.ProcessAttachment(ctx, doc, i); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMemmove is copy: the physical ceiling, in cache (5 MB) and out of
// it (50 MB).
func BenchmarkMemmove(b *testing.B) {
	for _, c := range []struct {
		name string
		n    int
	}{{"5MB", attachmentBytes}, {"50MB", 10 * attachmentBytes}} {
		src := randomBytes(c.n, 2)
		dst := make([]byte, c.n)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(c.n))
			b.ReportAllocs()
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}

// peakHeapRatio runs fn once and returns (live heap before + bytes allocated
// by fn) / raw: an upper bound on the peak heap fn needs, over raw.
func peakHeapRatio(raw int64, fn func()) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return float64(before.HeapAlloc+after.TotalAlloc-before.TotalAlloc) / float64(raw)
}
