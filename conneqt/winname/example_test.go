package winname_test

import (
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt/winname"
)

func ExampleSanitise() {
	fmt.Println(winname.Check("CON.txt"))
	fmt.Println(winname.Sanitise(" Results: <final>.pdf. "))
	fmt.Println(winname.Unique([]string{"scan.pdf", "Scan.pdf"}))
	// Output:
	// [is a name Windows reserves for a device (CON)]
	// Results_ _final_.pdf
	// [scan.pdf Scan (2).pdf]
}
