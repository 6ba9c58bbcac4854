package downsample

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/internal/testpdf"
	"github.com/gpdoc/gpdoc/pipeline"
)

var (
	hostileOnce sync.Once
	hostilePDF  []byte
)

// hostile returns a 6 MB PDF of 50 pages that all draw one content stream
// that inflates to 64 MiB (made once per test binary): pdfcpu's optimiser
// parses that stream once for each page.
func hostile(t testing.TB) []byte {
	t.Helper()
	hostileOnce.Do(func() { hostilePDF = testpdf.SharedContent(50, 64<<20, 6<<20) })
	return hostilePDF
}

// png16 returns a w×h 16-bit RGBA PNG (8 bytes a pixel decoded).
func png16(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFitOverDecodeBudget: what needs more than the whole decode budget is
// a FitError (a problem), before anything is decoded.
func TestFitOverDecodeBudget(t *testing.T) {
	small := budget.New(1 << 20) // 1 MiB
	p16 := png16(t, 400, 400)    // 1.28 MB decoded
	tests := []struct {
		name string
		opts Options
		fit  func(f *Fitter) error
		want string
	}{
		{"16-bit PNG counted at 8 bytes a pixel", Options{DecodeBudget: small}, func(f *Fitter) error {
			_, _, err := f.FitPNG(context.Background(), p16, 1000, PNGLosslessThenJPEG)
			return err
		}, "decoding the 400×400-pixel 16-bit PNG image needs 1.3 MB"},
		{"PDF whose streams decode to more than MaxPDFDecodeBytes", Options{MaxPDFDecodeBytes: 16 << 20}, func(f *Fitter) error {
			_, _, err := f.FitPDF(context.Background(), hostile(t), DefaultMaxBytes)
			return err
		}, "the PDF's streams decode to more than gpdoc decodes in one PDF (16 MiB)"},
		{"PDF larger than the whole budget", Options{DecodeBudget: small}, func(f *Fitter) error {
			_, _, err := f.FitPDF(context.Background(), hostile(t), DefaultMaxBytes)
			return err
		}, "more than gpdoc's decode budget of 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFitter(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.fit(f)
			var fe *FitError
			if !errors.As(err, &fe) || !errors.Is(err, ErrOverBudget) || !errors.Is(err, pipeline.ErrTooLarge) {
				t.Fatalf("err = %v, want a *FitError wrapping ErrOverBudget", err)
			}
			if !strings.Contains(fe.Reason, tt.want) {
				t.Errorf("reason %q does not contain %q", fe.Reason, tt.want)
			}
		})
	}
}

// TestStageOverDecodeBudget: the stage reports it as a problem naming the
// attachment's content.
func TestStageOverDecodeBudget(t *testing.T) {
	s, err := New(Options{MaxBytes: 1000, DecodeBudget: budget.New(1 << 20)})
	if err != nil {
		t.Fatal(err)
	}
	att := &conneqt.Attachment{FileName: "scan.png", MIMEType: "image/png", Data: png16(t, 400, 400)}
	err = s.ProcessAttachment(context.Background(), newDoc(conneqt.Standard, att), 0)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("err = %v, want one problem", err)
	}
	if p := ve.Problems[0]; p.Name != "attachments[0].content" || !strings.Contains(p.Reason, "decode budget") {
		t.Errorf("problem = %+v", p)
	}
}

// TestFitPDFSharedContent: a PDF whose one large content stream is drawn
// by every page is fitted (or refused) without parsing that content once
// for each page.
func TestFitPDFSharedContent(t *testing.T) {
	_, rep, err := FitPDF(context.Background(), hostile(t), Options{})
	if !errors.Is(err, ErrCannotFit) {
		t.Fatalf("err = %v, want ErrCannotFit (its only image is uncompressed noise)", err)
	}
	if !strings.Contains(strings.Join(rep.Steps, "\n"), "unused resources not removed") {
		t.Errorf("steps %q: resource consolidation not skipped", rep.Steps)
	}
}

// TestFitPDFTimeout: a fit past Options.PDFTimeout is a FitError wrapping
// ErrTimeout.
func TestFitPDFTimeout(t *testing.T) {
	_, _, err := FitPDF(context.Background(), hostile(t), Options{PDFTimeout: time.Nanosecond})
	var fe *FitError
	if !errors.As(err, &fe) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a *FitError wrapping ErrTimeout", err)
	}
	if !strings.Contains(fe.Reason, "longer than gpdoc allows (1ns)") {
		t.Errorf("reason %q", fe.Reason)
	}
}

// TestFitPDFCancel: cancelling the context (Ctrl-C) ends a PDF fit within
// two seconds, wherever it is: with ctx's error, or with the fit's own
// result if it was done first. (Before the fit took a context, it ran on
// for minutes.)
func TestFitPDFCancel(t *testing.T) {
	data := hostile(t)
	for _, after := range []time.Duration{0, 50 * time.Millisecond, 300 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			// A budget of its own, so that work abandoned by an earlier
			// round does not make this one wait.
			_, _, err := FitPDF(ctx, data, Options{DecodeBudget: budget.New(0)})
			done <- err
		}()
		time.Sleep(after)
		cancel()
		select {
		case err := <-done:
			if after == 0 && !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled before it started: err = %v, want context.Canceled", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("cancelled after %v: still running 2 s later", after)
		}
	}
}

// TestPDFCPUStepPanic: a panic inside a pdfcpu step's goroutine does not
// take the process down: it comes back to the caller as a
// *pipeline.PanicError, classified by where it happened (here the test's
// own code, so not a decoder), with the stack of where it happened.
func TestPDFCPUStepPanic(t *testing.T) {
	var wg sync.WaitGroup
	_, err := pdfcpuStep(context.Background(), &wg, func() (int, error) { panic("pdfcpu: index out of range") })
	wg.Wait()
	var pe *pipeline.PanicError
	if !errors.As(err, &pe) || pe.Value != "pdfcpu: index out of range" || pe.Decoder != "" ||
		!strings.Contains(string(pe.Stack), "TestPDFCPUStepPanic") || strings.Contains(err.Error(), "TestPDFCPUStepPanic") {
		t.Fatalf("err = %v", err)
	}
}

// TestFitJPEGBudgetCountsCoefficients: a 4:4:4 JPEG's coefficients take
// 6 bytes a pixel, twice its decoded pixels: a budget between the two is
// too small to fit it.
func TestFitJPEGBudgetCountsCoefficients(t *testing.T) {
	data, err := os.ReadFile(corpustest.Dir(t, "jpeg", "go", "video-001.q50.444.jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	px := int64(cfg.Width * cfg.Height)
	for _, tc := range []struct {
		budget int64
		over   bool
	}{{px * 4, true}, {px * 7, false}} {
		f, err := NewFitter(Options{DecodeBudget: budget.New(tc.budget)})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.FitJPEG(context.Background(), data, int64(len(data))/2)
		if over := errors.Is(err, ErrOverBudget); over != tc.over {
			t.Errorf("budget of %d bytes (%.1f a pixel): err = %v, want over budget %v", tc.budget, float64(tc.budget)/float64(px), err, tc.over)
		}
	}
}
