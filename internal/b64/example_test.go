package b64_test

import (
	"fmt"
	"io"
	"os"

	"github.com/gpdoc/gpdoc/internal/b64"
)

func ExampleEncoder() {
	e := b64.NewEncoder(os.Stdout)
	io.WriteString(e, "base64")
	io.WriteString(e, "encodedstring")
	if err := e.Close(); err != nil { // writes the final, padded group
		fmt.Println(err)
	}
	fmt.Println()
	// Output: YmFzZTY0ZW5jb2RlZHN0cmluZw==
}

func ExampleReader() {
	src := []byte("base64encodedstring")
	r := b64.NewReader(src)
	fmt.Println(r.Len() == b64.EncodedLen(int64(len(src))))
	io.Copy(os.Stdout, r) // uses r.WriteTo: one pooled buffer, no per-byte garbage
	fmt.Println()
	// Output:
	// true
	// YmFzZTY0ZW5jb2RlZHN0cmluZw==
}
