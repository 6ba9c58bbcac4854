package assemble_test

import (
	"io"
	"runtime"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/stages/assemble"
)

// maximalMessage is a message of route r with its most attachments, each of
// the largest size the route accepts.
func maximalMessage(r *conneqt.Route) *conneqt.Message {
	m := standardExample()
	m.Attachments = nil
	for i := range r.MaxAttachments {
		m.Attachments = append(m.Attachments, &conneqt.Attachment{
			FileName: "scan.pdf", MIMEType: conneqt.MIMEPDF, Data: sample(int(r.MaxAttachmentBytes), uint64(i)),
		})
	}
	return m
}

// TestPeakHeap streams one maximal message (10 x 5 MB) and bounds the heap it
// needs: at most the live heap before (which holds the raw attachments) plus
// everything allocated while assembling and streaming. That bound must stay
// under 1.5x the raw attachment bytes; a non-streaming encoder needs at least
// 2.3x (raw plus the 4/3 encoded copy).
func TestPeakHeap(t *testing.T) {
	route := conneqt.MustRoute(conneqt.Standard)
	m := maximalMessage(route)
	raw := uint64(route.MaxAttachments) * uint64(route.MaxAttachmentBytes)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := assemble.New(route, m)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, p.NewReader())
	if err != nil || n != p.Size() {
		t.Fatalf("streamed %d of %d bytes: %v", n, p.Size(), err)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)

	allocated := after.TotalAlloc - before.TotalAlloc
	peak := before.HeapAlloc + allocated
	ratio := float64(peak) / float64(raw)
	t.Logf("raw %d B, body %d B, allocated while streaming %d B in %d objects, peak heap <= %d B (%.3fx raw)",
		raw, p.Size(), allocated, after.Mallocs-before.Mallocs, peak, ratio)
	if ratio >= 1.5 {
		t.Errorf("peak heap %.2fx the raw attachment bytes, want < 1.5x", ratio)
	}
	if allocated > 1<<20 {
		t.Errorf("streaming allocated %d bytes, want a small constant", allocated)
	}
}
