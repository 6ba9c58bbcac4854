package segment

import "testing"

func BenchmarkStrip(b *testing.B) {
	in := withSegments(sample(b), "trailing", appSegment(APP1, exif(6, false)), appSegment(COM, []byte("comment")))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Strip(in); err != nil {
			b.Fatal(err)
		}
	}
}
