package orientation

import (
	"image"
	"testing"
)

// TestInverse: Src with Inverse(o) on the upright size undoes Src with o,
// for every orientation and pixel of an odd-sized image.
func TestInverse(t *testing.T) {
	const w, h = 5, 3
	for o := 1; o <= 8; o++ {
		uw, uh := w, h
		if Transposes(o) {
			uw, uh = h, w
		}
		seen := map[[2]int]bool{}
		for y := range uh {
			for x := range uw {
				sx, sy := Src(o, x, y, w, h)
				if sx < 0 || sx >= w || sy < 0 || sy >= h {
					t.Fatalf("o=%d: (%d,%d) maps outside the stored image: (%d,%d)", o, x, y, sx, sy)
				}
				seen[[2]int{sx, sy}] = true
				if bx, by := Src(Inverse(o), sx, sy, uw, uh); bx != x || by != y {
					t.Errorf("o=%d: (%d,%d) -> (%d,%d) -> (%d,%d)", o, x, y, sx, sy, bx, by)
				}
			}
		}
		if len(seen) != w*h {
			t.Errorf("o=%d: %d of %d stored pixels reached", o, len(seen), w*h)
		}
	}
}

func TestRatio(t *testing.T) {
	for _, tt := range []struct {
		r    image.YCbCrSubsampleRatio
		o    int
		want image.YCbCrSubsampleRatio
		ok   bool
	}{
		{image.YCbCrSubsampleRatio422, 3, image.YCbCrSubsampleRatio422, true},
		{image.YCbCrSubsampleRatio422, 6, image.YCbCrSubsampleRatio440, true},
		{image.YCbCrSubsampleRatio440, 5, image.YCbCrSubsampleRatio422, true},
		{image.YCbCrSubsampleRatio420, 8, image.YCbCrSubsampleRatio420, true},
		{image.YCbCrSubsampleRatio444, 7, image.YCbCrSubsampleRatio444, true},
		{image.YCbCrSubsampleRatio411, 2, image.YCbCrSubsampleRatio411, true},
		{image.YCbCrSubsampleRatio411, 6, image.YCbCrSubsampleRatio411, false},
		{image.YCbCrSubsampleRatio410, 5, image.YCbCrSubsampleRatio410, false},
	} {
		if got, ok := Ratio(tt.r, tt.o); got != tt.want || ok != tt.ok {
			t.Errorf("Ratio(%v, %d) = %v, %v; want %v, %v", tt.r, tt.o, got, ok, tt.want, tt.ok)
		}
	}
}
