package memprobe_test

import (
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/internal/memprobe"
)

var sink []byte

func TestPeakSeesAnAllocationHeldForAWhile(t *testing.T) {
	const size = 64 << 20
	peak := memprobe.Peak(func() {
		sink = make([]byte, size)
		for i := range sink {
			sink[i] = byte(i) // touch the pages
		}
		time.Sleep(20 * time.Millisecond)
		sink = nil
	})
	if peak < size || peak > 2*size {
		t.Errorf("peak %d, want about %d", peak, size)
	}
	if small := memprobe.Peak(func() {}); small > 8<<20 {
		t.Errorf("peak of doing nothing: %d bytes", small)
	}
}

func TestPeakRSSSeesAnAllocation(t *testing.T) {
	if !memprobe.ResetPeakRSS() {
		t.Skip("peak RSS cannot be reset here (not Linux?)")
	}
	before := memprobe.PeakRSS()
	const size = 64 << 20
	sink = make([]byte, size)
	for i := range sink {
		sink[i] = byte(i)
	}
	after := memprobe.PeakRSS()
	sink = nil
	if after < before+size/2 {
		t.Errorf("peak RSS %d -> %d after touching %d bytes", before, after, size)
	}
}
