package encode

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// refWriter writes one bit at a time: the plain reading of the
// entropy-coded segment's rules (bits most significant first, each 0xFF
// byte followed by a stuffed zero, the last byte padded with 1 bits).
type refWriter struct {
	out   []byte
	cur   byte
	nbits int
}

func (r *refWriter) bit(b uint32) {
	r.cur = r.cur<<1 | byte(b&1)
	if r.nbits++; r.nbits == 8 {
		r.out = append(r.out, r.cur)
		if r.cur == 0xFF {
			r.out = append(r.out, 0)
		}
		r.cur, r.nbits = 0, 0
	}
}

func (r *refWriter) emit(bits uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		r.bit(bits >> i)
	}
}

func (r *refWriter) flush() {
	for r.nbits != 0 {
		r.bit(1)
	}
}

// TestBitWriter compares bitWriter with refWriter on random runs of
// emits, biased towards all-ones values so that 0xFF bytes (stuffing)
// are common, with every length from 0 to 32 bits.
func TestBitWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 2000 {
		w := newBitWriter(rng.IntN(16)) // small: growing is tested too
		var ref refWriter
		for range rng.IntN(200) {
			n := uint(rng.IntN(33))
			v := rng.Uint32()
			if rng.IntN(3) == 0 {
				v = ^uint32(0)
			}
			w.emit(v, n)
			ref.emit(v, n)
		}
		w.flush()
		ref.flush()
		if !bytes.Equal(w.bytes(), ref.out) {
			t.Fatalf("run %d: bitWriter wrote % x, want % x", run, w.bytes(), ref.out)
		}
	}
}
