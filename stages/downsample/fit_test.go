package downsample

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image/jpeg"
	"runtime/debug"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/internal/memprobe"

	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/pipeline"
)

// TestFit24MP fits the generated 24 MP photo (about 11 MB) under several
// budgets and orientations: the output fits, decodes, is upright and keeps
// its long edge at or above the floor.
func TestFit24MP(t *testing.T) {
	heavy(t)
	src, data := photo24MP(t)
	if len(data) < 8_000_000 {
		t.Fatalf("generated photo is only %d bytes; want well over 5 MB", len(data))
	}
	ref := coarse(src, 12, 8)
	tests := []struct {
		name        string
		orientation int
		budget      int64
		wantScaled  bool
	}{
		{"5MB", 1, 5_000_000, false},
		{"5MB rotated 90", 6, 5_000_000, false},
		{"1.5MB needs scaling", 1, 1_500_000, true},
		{"1.5MB scaled, rotated 270", 8, 1_500_000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := data
			if tt.orientation != 1 {
				// Store the photo turned the other way and tag it, as a
				// camera held sideways does.
				undo := map[int]int{6: 8, 8: 6}[tt.orientation]
				var b bytes.Buffer
				if err := jpeg.Encode(&b, orient(src, undo), &jpeg.Options{Quality: 95}); err != nil {
					t.Fatal(err)
				}
				in = withOrientation(t, b.Bytes(), tt.orientation, false)
			}
			out, rep, err := FitJPEG(context.Background(), in, Options{MaxBytes: tt.budget})
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(out)) > tt.budget {
				t.Fatalf("output %d bytes, over %d", len(out), tt.budget)
			}
			img, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("output does not decode: %v", err)
			}
			b := img.Bounds()
			if b.Dx() < b.Dy() {
				t.Fatalf("output %dx%d is not upright (landscape)", b.Dx(), b.Dy())
			}
			if max(b.Dx(), b.Dy()) < DefaultMinLongEdge {
				t.Fatalf("long edge %d under the floor", max(b.Dx(), b.Dy()))
			}
			if scaledDown := b.Dx() < 6000; scaledDown != tt.wantScaled {
				t.Errorf("scaled = %v (%dx%d), want %v", scaledDown, b.Dx(), b.Dy(), tt.wantScaled)
			}
			if d := meanAbsDiff(ref, coarse(img, 12, 8)); d > 3 {
				t.Errorf("output differs from the source by %.1f grey levels on a coarse grid", d)
			}
			if rep.Quality < DefaultMinQuality || rep.Encodes < 1 || rep.Encodes > 3 || rep.FinalBytes != int64(len(out)) {
				t.Errorf("report %+v", rep)
			}
			t.Logf("%d -> %d bytes, %dx%d q%g, %d full + %d sample encodes", len(in), len(out), b.Dx(), b.Dy(), rep.Quality, rep.Encodes, rep.SampleEncodes)
		})
	}
}

func TestFitJPEGErrors(t *testing.T) {
	data := photo4MP(t)
	huge := pngHeader(200_000, 100_000)
	tests := []struct {
		name string
		data []byte
		opts Options
		want error
	}{
		{"floor cannot fit", data, Options{MaxBytes: 50_000}, ErrCannotFit},
		{"pixel budget", data, Options{MaxBytes: 1_000_000, MaxPixels: 1_000_000}, ErrTooManyPixels},
		{"damaged", append(bytes.Clone(data[:4000]), make([]byte, 1000)...), Options{MaxBytes: 1000}, ErrUndecodable},
		{"header claims 20 gigapixels", huge, Options{MaxBytes: 10}, ErrTooManyPixels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit := FitJPEG
			if bytes.HasPrefix(tt.data, []byte("\x89PNG")) {
				fit = func(ctx context.Context, d []byte, o Options) ([]byte, Report, error) {
					return FitPNG(ctx, d, PNGLosslessThenJPEG, o)
				}
			}
			_, _, err := fit(context.Background(), tt.data, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var fe *FitError
			if !errors.As(err, &fe) || fe.Reason == "" {
				t.Fatalf("err %T is not a *FitError with a reason", err)
			}
			if errors.Is(tt.want, ErrCannotFit) {
				if fe.Reached <= fe.Limit || !errors.Is(err, pipeline.ErrTooLarge) {
					t.Errorf("FitError %+v: want the size reached over the limit, matching pipeline.ErrTooLarge", fe)
				}
			}
		})
	}
}

func TestFitJPEGUnderLimitUnchanged(t *testing.T) {
	in := tinyJPEG(t)
	out, rep, err := FitJPEG(context.Background(), in, Options{})
	if err != nil || !bytes.Equal(in, out) || rep.Encodes != 0 {
		t.Fatalf("FitJPEG changed a JPEG under the limit: err %v, report %+v", err, rep)
	}
}

func TestFitJPEGCancelled(t *testing.T) {
	data := photo4MP(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := FitJPEG(ctx, data, Options{MaxBytes: 1_000_000}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestPeakMemory24MP samples the heap while fitting the 24 MP photo and
// checks that fitting adds under 200 MB at its peak (the input bytes are
// already held by the caller and not counted). The heaviest paths are a
// photo that must also be scaled (its pixels live in the coefficients'
// memory, then resized) and a sideways one (coefficients, pixels written
// upright, resized).
//
// It runs as the gpdoc command runs, under the soft heap limit the CLI sets
// by default (--memory-limit 100MiB): the garbage collector then runs when
// the heap nears it, so the figure is the memory the fit holds, not how far
// garbage piled up before a collection (which varies with the machine's
// load).
func TestPeakMemory24MP(t *testing.T) {
	heavy(t)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	src, data := photo24MP(t)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, orient(src, 8), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	sideways := withOrientation(t, b.Bytes(), 6, false)
	for _, tt := range []struct {
		name   string
		data   []byte
		budget int64
	}{
		{"transcoded", data, 5_000_000},
		{"transcoded and turned", sideways, 5_000_000},
		{"scaled", data, 1_500_000},
		{"scaled and turned", sideways, 1_500_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			peak := memprobe.Peak(func() {
				if _, _, err := FitJPEG(context.Background(), tt.data, Options{MaxBytes: tt.budget}); err != nil {
					t.Error(err)
				}
			})
			t.Logf("peak heap above baseline: %.1f MB", float64(peak)/1e6)
			if peak > 200_000_000 {
				t.Errorf("peak heap %.1f MB, want under 200 MB", float64(peak)/1e6)
			}
		})
	}
}

// pngHeader is a PNG signature and IHDR claiming w x h pixels, with no
// image data: DecodeConfig reads it, Decode would fail.
func pngHeader(w, h uint32) []byte {
	chunk := []byte("IHDR")
	chunk = append(chunk, byte(w>>24), byte(w>>16), byte(w>>8), byte(w), byte(h>>24), byte(h>>16), byte(h>>8), byte(h), 8, 6, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"), chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

// TestTinyBudgetTerminates: a budget that needs a scale near the 1/1000
// grid's resolution ends (fitted or refused) instead of looping; found by
// FuzzFitJPEG.
func TestTinyBudgetTerminates(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testimage.Photo(1024, 1024, 3), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		out, _, err := FitJPEG(context.Background(), b.Bytes(), Options{MaxBytes: 600, MinLongEdge: 8})
		if err == nil && len(out) > 600 {
			err = errors.New("output over the budget")
		}
		var fe *FitError
		if err != nil && !errors.As(err, &fe) {
			done <- err
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("FitJPEG did not return within a minute")
	}
}
