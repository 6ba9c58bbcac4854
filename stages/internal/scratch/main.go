package main

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
)

func main() {
	for _, f := range os.Args[1:] {
		data, _ := os.ReadFile(f)
		c, format, err := image.DecodeConfig(bytes.NewReader(data))
		fmt.Printf("%s: %v %s %T %v\n", f, c.Width*c.Height, format, err, err)
		if err == nil && c.Width*c.Height < 50e6 {
			_, _, err = image.Decode(bytes.NewReader(data))
			fmt.Printf("   decode: %T %v\n", err, err)
		}
	}
}
