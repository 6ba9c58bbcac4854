package nhsnumber_test

import (
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
)

func ExampleNormalise() {
	n, err := nhsnumber.Normalise("943 476 5919")
	fmt.Println(n, err)
	_, err = nhsnumber.Normalise("485 777 3456")
	fmt.Println(err)
	fmt.Println(nhsnumber.Mask(n))
	// Output:
	// 9434765919 <nil>
	// check digit is wrong
	// 943***5919
}
