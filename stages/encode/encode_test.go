package encode_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/encode"
)

func TestCheck(t *testing.T) {
	limited := conneqt.MustRoute(conneqt.Standard).Clone()
	limited.MaxAttachmentBytes = 10
	unlimited := limited.Clone()
	unlimited.MaxAttachmentBytes = 0
	tests := []struct {
		name  string
		route *conneqt.Route
		n     int64
		fits  bool
	}{
		{"empty", conneqt.MustRoute(conneqt.Instant), 0, true},
		{"exactly 5 MB", conneqt.MustRoute(conneqt.Standard), 5_000_000, true},
		{"one byte over 5 MB", conneqt.MustRoute(conneqt.GPConnect), 5_000_001, false},
		{"5 MiB", conneqt.MustRoute(conneqt.Instant), 5 << 20, false},
		{"at a cloned limit", limited, 10, true},
		{"over a cloned limit", limited, 11, false},
		{"no limit", unlimited, 1 << 40, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := encode.Check(tc.route, 3, tc.n)
			if ok != tc.fits || encode.Fits(tc.route, tc.n) != tc.fits {
				t.Fatalf("Check(%d) fits = %v, want %v", tc.n, ok, tc.fits)
			}
			if ok {
				if p != (conneqt.Problem{}) {
					t.Errorf("problem for a fitting attachment: %v", p)
				}
				return
			}
			if p.Name != "attachments[3].content" || p.Value != "" {
				t.Errorf("problem = %+v", p)
			}
			for _, want := range []string{fmt.Sprint(tc.n), fmt.Sprint(encode.EncodedLen(tc.n)), string(tc.route.Name)} {
				if !strings.Contains(p.Reason, want) {
					t.Errorf("reason %q lacks %q", p.Reason, want)
				}
			}
		})
	}
}

func TestEncodedLen(t *testing.T) {
	for n, want := range map[int64]int64{0: 0, 1: 4, 2: 4, 3: 4, 4: 8, 5_000_000: 6_666_668} {
		if got := encode.EncodedLen(n); got != want {
			t.Errorf("EncodedLen(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestStage(t *testing.T) {
	route := conneqt.MustRoute(conneqt.Standard)
	doc := &pipeline.Document{Route: route, Message: &conneqt.Message{Attachments: []*conneqt.Attachment{
		{FileName: "small.pdf", Data: make([]byte, 100)},
		{FileName: "big.pdf", Data: make([]byte, route.MaxAttachmentBytes+1)},
	}}}
	s := encode.New()
	if s.Name() != "encode" {
		t.Errorf("Name = %q", s.Name())
	}
	ctx := context.Background()
	if err := s.ProcessAttachment(ctx, doc, 0); err != nil {
		t.Errorf("small attachment: %v", err)
	}
	err := s.ProcessAttachment(ctx, doc, 1)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[1].content" {
		t.Errorf("big attachment: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.ProcessAttachment(cancelled, doc, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// The runner runs the stage on every attachment and lists every one that is
// too large.
func TestStageInRunner(t *testing.T) {
	route := conneqt.MustRoute(conneqt.Instant)
	var atts []*conneqt.Attachment
	for _, n := range []int64{1, route.MaxAttachmentBytes + 1, route.MaxAttachmentBytes, route.MaxAttachmentBytes + 2} {
		atts = append(atts, &conneqt.Attachment{FileName: "f.pdf", Data: make([]byte, n)})
	}
	doc := &pipeline.Document{Route: route, Message: &conneqt.Message{Attachments: atts}}
	r := &pipeline.Runner{Stages: pipeline.Pipeline{encode.New()}}
	err := r.Process(context.Background(), doc)
	if !errors.Is(err, conneqt.ErrInvalid) {
		t.Fatalf("Process = %v, want ErrInvalid", err)
	}
	var names []string
	for _, p := range doc.Problems() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "attachments[1].content attachments[3].content" {
		t.Errorf("problems on %s", got)
	}
}

func ExampleCheck() {
	route := conneqt.MustRoute(conneqt.Standard)
	for _, n := range []int64{4_999_999, 6_000_000} {
		p, ok := encode.Check(route, 0, n)
		if ok {
			fmt.Println(n, "fits,", encode.EncodedLen(n), "bytes in Base64")
			continue
		}
		fmt.Println(n, "is too large:", p.Name)
	}
	// Output:
	// 4999999 fits, 6666668 bytes in Base64
	// 6000000 is too large: attachments[0].content
}
