package sctid_test

import (
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt/sctid"
)

func ExampleCheck() {
	kind, err := sctid.Check("325871000000103")
	fmt.Println(kind, err)
	_, err = sctid.Check("407554008")
	fmt.Println(err)
	// Output:
	// concept <nil>
	// Verhoeff check digit is wrong
}
