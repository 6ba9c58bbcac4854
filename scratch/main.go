package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gabriel-vasile/mimetype"
)

func main() {
	files, _ := filepath.Glob("/work/shared/corpus/text/*/*/*")
	f2, _ := filepath.Glob("/work/shared/corpus/text/*/*.txt")
	f3, _ := filepath.Glob("/work/shared/corpus/jpeg/*/*")
	f4, _ := filepath.Glob("/work/shared/corpus/png/[gpil]*/*")
	files = append(append(append(files, f2...), f3...), f4...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil { continue }
		m := mimetype.Detect(data)
		chain := m.String()
		for p := m.Parent(); p != nil; p = p.Parent() { chain += " < " + p.String() }
		fmt.Printf("%-60s %s\n", f[len("/work/shared/corpus/"):], chain)
	}
	for _, s := range []string{"", "%PD", "<html><body>x", "{\"a\":1}", "a,b\n1,2\n", "<?xml version=\"1.0\"?><a/>", "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*", "\x00\x01\x02"} {
		m := mimetype.Detect([]byte(s))
		chain := m.String()
		for p := m.Parent(); p != nil; p = p.Parent() { chain += " < " + p.String() }
		fmt.Printf("%q => %s\n", s, chain)
	}
}
