package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gpdoc/gpdoc/stages/internal/pdfdoc"
)

func main() {
	files, _ := filepath.Glob("/work/shared/corpus/pdf/*/*.pdf")
	f2, _ := filepath.Glob("/work/shared/corpus/pdf/*/*/*.pdf")
	files = append(files, f2...)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		start := time.Now()
		doc, err := pdfdoc.Open(data, 50_000_000)
		res := ""
		if err != nil {
			res = "ERR " + err.Error()
		} else {
			fs := pdfdoc.RemoveActive(doc.Ctx)
			res = fmt.Sprintf("ok enc=%v active=%v", doc.Encrypted, fs)
			if len(fs) > 0 {
				out, err := pdfdoc.Write(doc.Ctx)
				if err != nil {
					res += " WRITE ERR " + err.Error()
				} else {
					d2, err := pdfdoc.Open(out, 50_000_000)
					if err != nil {
						res += " REOPEN ERR " + err.Error()
					} else {
						res += fmt.Sprintf(" after=%v (%d->%d bytes)", pdfdoc.FindActive(d2.Ctx), len(data), len(out))
					}
				}
			}
		}
		if len(res) > 400 {
			res = res[:400]
		}
		fmt.Printf("%-45s %5dms %s\n", f[len("/work/shared/corpus/pdf/"):], time.Since(start).Milliseconds(), res)
	}
}
