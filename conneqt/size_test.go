package conneqt_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
)

func TestCheckAttachmentSize(t *testing.T) {
	limited := conneqt.MustRoute(conneqt.Standard).Clone()
	limited.MaxAttachmentBytes = 10
	unlimited := limited.Clone()
	unlimited.MaxAttachmentBytes = 0
	base64, err := conneqt.MustRoute(conneqt.Standard).WithAttachmentLimit(0, conneqt.LimitBase64)
	if err != nil {
		t.Fatal(err)
	}
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
		{"at a Base64 limit", base64, 3_750_000, true},
		{"over a Base64 limit", base64, 3_750_001, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := tc.route.CheckAttachmentSize(3, tc.n)
			if ok != tc.fits {
				t.Fatalf("CheckAttachmentSize(%d) fits = %v, want %v", tc.n, ok, tc.fits)
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
			limit := tc.route.MaxDecodedBytes()
			encoded := (tc.n + 2) / 3 * 4
			for _, want := range []string{"too large", fmt.Sprint(tc.n), fmt.Sprint(encoded), "more than the " + tc.route.DescribeLimit(), string(tc.route.Name), fmt.Sprintf("send at most %d bytes", limit)} {
				if !strings.Contains(p.Reason, want) {
					t.Errorf("reason %q lacks %q", p.Reason, want)
				}
			}
		})
	}
}

func ExampleRoute_CheckAttachmentSize() {
	route := conneqt.MustRoute(conneqt.Standard)
	for _, n := range []int64{4_999_999, 6_000_000} {
		if p, ok := route.CheckAttachmentSize(0, n); !ok {
			fmt.Println(p)
			continue
		}
		fmt.Println(n, "fits")
	}
	// Output:
	// 4999999 fits
	// attachments[0].content: too large: 6000000 bytes (8000000 in Base64), more than the 5000000 bytes the standard route accepts per attachment; send at most 5000000 bytes (a smaller file, or an image or PDF gpdoc can downsample)
}

// FuzzCheckAttachmentSize: the gate passes exactly the sizes at or under the
// limit, and its problem always names the field, the size and the limit.
func FuzzCheckAttachmentSize(f *testing.F) {
	f.Add(int64(5_000_000), int64(5_000_001), 2)
	f.Add(int64(10), int64(0), 0)
	f.Add(int64(0), int64(1<<40), 9)
	f.Fuzz(func(t *testing.T, limit, n int64, i int) {
		if n < 0 || i < 0 || n > 1<<50 {
			return
		}
		r := conneqt.MustRoute(conneqt.Instant).Clone()
		r.MaxAttachmentBytes = limit
		p, ok := r.CheckAttachmentSize(i, n)
		if want := limit <= 0 || n <= limit; ok != want {
			t.Fatalf("limit %d, size %d: ok = %v, want %v", limit, n, ok, want)
		}
		if ok {
			return
		}
		if want := fmt.Sprintf("attachments[%d].content", i); p.Name != want {
			t.Fatalf("name %q, want %q", p.Name, want)
		}
		for _, s := range []string{fmt.Sprint(n), fmt.Sprint(limit)} {
			if !strings.Contains(p.Reason, s) {
				t.Fatalf("reason %q lacks %q", p.Reason, s)
			}
		}
	})
}
