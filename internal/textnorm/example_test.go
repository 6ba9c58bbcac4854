package textnorm_test

import (
	"fmt"

	"github.com/gpdoc/gpdoc/internal/textnorm"
)

func ExampleNormalise() {
	// A consultation note saved by an old Windows program: Windows-1252
	// with CRLF line ends.
	res, err := textnorm.Normalise([]byte("Temp\xe9rature 37.8 \xb0C\r\nReview in 7 days\r\n"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", res.Text)
	fmt.Println(res.Changes())
	// Output:
	// "Température 37.8 °C\nReview in 7 days\n"
	// [converted from Windows-1252 to UTF-8 changed 2 CRLF or CR line ends to LF]
}
