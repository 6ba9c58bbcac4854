package coef

import (
	"bytes"
	"image/jpeg"
	"slices"
	"testing"

	"github.com/gpdoc/gpdoc/internal/testimage"
)

// TestReleasedBlocksReused: a released image's coefficients are reused by
// the next Decode, which gets exactly what a fresh decode gets (nothing of
// the released image shows through), and Release leaves the image
// without its blocks.
func TestReleasedBlocksReused(t *testing.T) {
	encode := func(seed uint64, q int) []byte {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, testimage.Photo(320, 240, seed), &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	busy, sparse := encode(1, 100), encode(2, 30) // sparse: most coefficients zero
	spare.Lock()
	spare.slabs, spare.bytes = nil, 0
	spare.Unlock()

	fresh, err := Decode(sparse)
	if err != nil {
		t.Fatal(err)
	}
	first, err := Decode(busy)
	if err != nil {
		t.Fatal(err)
	}
	luma := &first.Components[0].Blocks[0]
	first.Release()
	if first.Components[0].Blocks != nil {
		t.Error("Release left the image its blocks")
	}
	again, err := Decode(sparse)
	if err != nil {
		t.Fatal(err)
	}
	reused := false
	for i := range again.Components {
		if !slices.Equal(again.Components[i].Blocks, fresh.Components[i].Blocks) {
			t.Fatalf("component %d: a decode into released blocks differs from a fresh one", i)
		}
		reused = reused || &again.Components[i].Blocks[0] == luma
	}
	if !reused {
		t.Error("the released blocks were not reused")
	}
}
