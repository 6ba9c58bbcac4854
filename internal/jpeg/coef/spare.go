package coef

import "sync"

// Coefficient slices of released images, kept for the next Decode. A
// photo's coefficients are tens of megabytes; under a soft memory limit
// the runtime soon returns freed memory to the operating system, and a
// fresh allocation of that size is paid again in page faults and zeroing
// (about a third of a backfill's system time, on a backlog of photos).
var spare struct {
	sync.Mutex
	slabs [][]Block
	bytes int64
}

// Bounds on what spare keeps: enough for two 12 MP images, or one 24 MP
// image, decoded at once.
const (
	maxSpareSlabs = 2 * maxComponents
	maxSpareBytes = 80 << 20
)

// takeBlocks returns n zeroed blocks, from the smallest spare slice that
// holds them, or newly allocated.
func takeBlocks(n int) []Block {
	spare.Lock()
	best := -1
	for i, s := range spare.slabs {
		if cap(s) >= n && (best < 0 || cap(s) < cap(spare.slabs[best])) {
			best = i
		}
	}
	if best < 0 {
		spare.Unlock()
		return make([]Block, n)
	}
	s := spare.slabs[best]
	spare.slabs = append(spare.slabs[:best], spare.slabs[best+1:]...)
	spare.bytes -= int64(cap(s)) * blockSize * 2
	spare.Unlock()
	s = s[:n]
	clear(s)
	return s
}

// giveBlocks keeps s for a later takeBlocks, within the bounds.
func giveBlocks(s []Block) {
	size := int64(cap(s)) * blockSize * 2
	if size == 0 || size > maxSpareBytes {
		return
	}
	spare.Lock()
	defer spare.Unlock()
	if len(spare.slabs) < maxSpareSlabs && spare.bytes+size <= maxSpareBytes {
		spare.slabs = append(spare.slabs, s[:0])
		spare.bytes += size
	}
}

// Release gives m's coefficients back for a later Decode to reuse, and
// leaves m without them. Call it once nothing holds m's blocks, nor an
// image made from them in place (PixelsInPlace), any more.
func (m *Image) Release() {
	for i := range m.Components {
		giveBlocks(m.Components[i].Blocks)
		m.Components[i].Blocks = nil
	}
}
