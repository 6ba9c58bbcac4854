package pdfdoc

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"

	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/testpdf"
)

func TestMeasure(t *testing.T) {
	// Five pages drawing one content stream that inflates to 4 MiB.
	data := testpdf.SharedContent(5, 4<<20, 1000)
	pc, err := api.ReadContext(bytes.NewReader(data), Config(0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		limit int64
		check func(c Cost) bool
	}{
		{"whole", 64 << 20, func(c Cost) bool {
			return c.Streams == 4<<20 && c.PageContent == 5*4<<20 && c.LargestPage == 4<<20
		}},
		{"stops past the limit", 1 << 20, func(c Cost) bool { return c.Streams > 1<<20 && c.Streams <= 1<<20+1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Measure(context.Background(), pc.XRefTable, tt.limit)
			if err != nil || !tt.check(c) {
				t.Errorf("Measure = %+v, %v", c, err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Measure(ctx, pc.XRefTable, 64<<20); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Measure: %v", err)
	}
}

func TestOpenContextBudget(t *testing.T) {
	data := testpdf.SharedContent(2, 2<<20, 600_000) // no object streams
	if _, err := OpenContext(context.Background(), data, 0, budget.New(1<<20)); !errors.Is(err, budget.ErrOverBudget) {
		t.Errorf("a 600 kB PDF in a 1 MiB budget: %v", err)
	}
	if _, err := OpenContext(context.Background(), data, 0, budget.New(2<<20)); err != nil {
		t.Errorf("in a 2 MiB budget: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenContext(ctx, data, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestMeasureObjectStreams(t *testing.T) {
	conf := Config(0)
	conf.WriteObjectStream, conf.WriteXRefStream = true, true
	var packed bytes.Buffer
	if err := api.Optimize(bytes.NewReader(testpdf.Text("one", "two")), &packed, conf); err != nil {
		t.Fatal(err)
	}
	pc, err := api.ReadContext(bytes.NewReader(packed.Bytes()), Config(0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Measure(context.Background(), pc.XRefTable, 64<<20)
	if err != nil || c.ObjectStreams == 0 || c.ObjectStreams >= c.Streams || c.PageContent == 0 {
		t.Errorf("Measure of a PDF with object streams = %+v, %v", c, err)
	}
	o, err := MeasureObjectStreams(context.Background(), pc.XRefTable, 64<<20)
	if err != nil || o.ObjectStreams != c.ObjectStreams || o.Streams != c.ObjectStreams || o.PageContent != 0 {
		t.Errorf("MeasureObjectStreams = %+v, %v (Measure %+v)", o, err, c)
	}
}
