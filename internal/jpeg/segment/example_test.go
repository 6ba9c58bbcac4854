package segment_test

import (
	"fmt"

	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
)

func ExampleOrientationSegment() {
	seg := segment.OrientationSegment(6)
	fmt.Printf("% X\n", seg[:4])
	fmt.Println(len(seg), "bytes")
	// Output:
	// FF E1 00 22
	// 36 bytes
}
