package nhsnumber

import "testing"

func BenchmarkNormalise(b *testing.B) {
	for b.Loop() {
		if _, err := Normalise("943 476 5919"); err != nil {
			b.Fatal(err)
		}
	}
}
