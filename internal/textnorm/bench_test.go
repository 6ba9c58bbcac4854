package textnorm

import (
	"bytes"
	"testing"
)

func BenchmarkNormalise(b *testing.B) {
	cases := map[string][]byte{
		"utf8-1MB":   bytes.Repeat([]byte("Paracetamol 500 mg as needed; salbutamol 100 µg.\r\n"), 20000),
		"cp1252-1MB": bytes.Repeat([]byte("Temp\xe9rature 37.8 \xb0C \x93noted\x94.\r\n"), 30000),
		"utf16-1MB":  utf16le(string(bytes.Repeat([]byte("Chest clear.\r\n"), 40000)), true),
	}
	for name, in := range cases {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Normalise(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
