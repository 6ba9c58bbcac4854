// Package benchmarks holds gpdoc's end-to-end benchmarks over testdata/.
package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/stages/render"
)

// BenchmarkRender renders the consultation summary PDF: the example
// consultation (one page), and the same with notes long enough for ten
// pages. Goals on the reference machine: 1 page < 20 ms, 10 pages < 100 ms.
func BenchmarkRender(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "render", "short.json"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	short, err := render.Parse(raw, now)
	if err != nil {
		b.Fatal(err)
	}
	stage, err := render.New(render.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	long := tenPages(b, stage, raw, now)

	for _, bc := range []struct {
		name  string
		c     *render.Consultation
		pages int
	}{{"1page", short, 1}, {"10pages", long, 10}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				rep, err := stage.Render(ctx, bc.c, time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				if rep.Pages != bc.pages {
					b.Fatalf("%d pages, want %d", rep.Pages, bc.pages)
				}
				size = len(rep.PDF)
			}
			b.ReportMetric(float64(size), "pdf-bytes")
		})
	}
}

// tenPages grows the example's notes until the report is ten pages long.
func tenPages(b *testing.B, stage *render.Stage, raw []byte, now time.Time) *render.Consultation {
	for n := 60; n < 2000; n += 10 {
		c, err := render.Parse(raw, now)
		if err != nil {
			b.Fatal(err)
		}
		var notes strings.Builder
		for i := range n {
			notes.WriteString("Paragraph " + strconv.Itoa(i) + ": patient reports a dry cough, worse at night; temperature 37.8 °C; 100 µg salbutamol helps. ")
			if i%4 == 3 {
				notes.WriteString("\n\n")
			}
		}
		c.Sections = append(c.Sections, render.Section{Title: "Further history", Notes: notes.String()})
		rep, err := stage.Render(context.Background(), c, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Pages == 10 {
			return c
		}
	}
	b.Fatal("could not make a ten-page report")
	return nil
}
