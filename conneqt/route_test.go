package conneqt_test

import (
	"errors"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
)

func TestRouteTable(t *testing.T) {
	for _, tc := range []struct {
		route       conneqt.RouteName
		typ, path   string
		max         int
		png, coded  bool
		token       conneqt.TokenPolicy
		bodyHTML    bool
		retry503    bool
		subjectNHS  bool // plain NHSNumber accepted
		gpInfoNeeds bool
	}{
		{conneqt.Standard, "ToolbarMessage", "/api/v1/messages", 10, true, true, conneqt.TokenNever, false, false, false, false},
		{conneqt.Instant, "ToolbarInstantMessage", "/api/v1/messages/instant", 10, false, true, conneqt.TokenRequired, true, false, false, false},
		{conneqt.GPConnect, "GPConnectMessage", "/api/v1/gpconnect/messages", 1, false, false, conneqt.TokenWhenConfigured, true, true, true, true},
	} {
		r, err := conneqt.LookupRoute(string(tc.route))
		if err != nil {
			t.Fatal(err)
		}
		if r.MessageType != tc.typ || r.Path != tc.path || r.MaxAttachments != tc.max || r.MinAttachments != 1 {
			t.Errorf("%s: type %q path %q attachments %d..%d", tc.route, r.MessageType, r.Path, r.MinAttachments, r.MaxAttachments)
		}
		if r.AllowsMIME(conneqt.MIMEPNG) != tc.png || r.CodedDataAllowed != tc.coded || r.AccessToken != tc.token {
			t.Errorf("%s: png %v coded %v token %v", tc.route, r.AllowsMIME(conneqt.MIMEPNG), r.CodedDataAllowed, r.AccessToken)
		}
		if r.AllowsBodyMIME(conneqt.MIMEHTML) != tc.bodyHTML || !r.AllowsBodyMIME(conneqt.MIMEText) {
			t.Errorf("%s: body MIME types %v", tc.route, r.BodyMIMETypes)
		}
		// The pages' retry statuses (500 everywhere, 503 on GP Connect) are
		// always retried; the departures (429, 502, 503, 504) are the table's.
		if (tc.retry503 && !r.Retryable(503)) || !r.Retryable(500) || r.Retryable(406) || r.Retryable(400) {
			t.Errorf("%s: retry statuses %v", tc.route, r.RetryStatus)
		}
		if r.MaxAttachmentBytes != 5_000_000 || r.GPConnectRequired != tc.gpInfoNeeds {
			t.Errorf("%s: max bytes %d, gp info %v", tc.route, r.MaxAttachmentBytes, r.GPConnectRequired)
		}
		byType, err := conneqt.RouteForType(tc.typ)
		if err != nil || byType != r {
			t.Errorf("RouteForType(%q) = %v, %v", tc.typ, byType, err)
		}
		nhs := false
		for _, s := range r.SubjectIDTypes {
			nhs = nhs || s == conneqt.IDNHSNumber
		}
		if nhs != tc.subjectNHS {
			t.Errorf("%s: subject id types %v", tc.route, r.SubjectIDTypes)
		}
	}
	if _, err := conneqt.LookupRoute("fax"); !errors.Is(err, conneqt.ErrUnknownRoute) {
		t.Errorf("LookupRoute(fax) = %v", err)
	}
	c := conneqt.MustRoute(conneqt.Standard).Clone()
	c.AttachmentMIMETypes = c.AttachmentMIMETypes[:1]
	if !conneqt.MustRoute(conneqt.Standard).AllowsMIME(conneqt.MIMEPNG) {
		t.Error("editing a Clone changed the shared table")
	}
}

func TestMaxDecodedBytes(t *testing.T) {
	std := conneqt.MustRoute(conneqt.Standard)
	for _, tt := range []struct {
		limit int64
		basis conneqt.LimitBasis
		want  int64
		text  string
	}{
		{0, "", 5_000_000, "5000000 bytes"},
		{0, conneqt.LimitBase64, 3_750_000, "5000000 bytes of Base64 (3750000 decoded bytes)"},
		{4_000_000, conneqt.LimitDecoded, 4_000_000, "4000000 bytes"},
		{5_000_001, conneqt.LimitBase64, 3_750_000, "5000001 bytes of Base64 (3750000 decoded bytes)"},
		{5_000_003, conneqt.LimitBase64, 3_750_000, "5000003 bytes of Base64 (3750000 decoded bytes)"},
		{5_000_004, conneqt.LimitBase64, 3_750_003, "5000004 bytes of Base64 (3750003 decoded bytes)"},
		{4, conneqt.LimitBase64, 3, "4 bytes of Base64 (3 decoded bytes)"},
	} {
		r, err := std.WithAttachmentLimit(tt.limit, tt.basis)
		if err != nil {
			t.Fatalf("%d %s: %v", tt.limit, tt.basis, err)
		}
		if got := r.MaxDecodedBytes(); got != tt.want {
			t.Errorf("%d %s: MaxDecodedBytes %d, want %d", tt.limit, tt.basis, got, tt.want)
		}
		if got := r.DescribeLimit(); got != tt.text {
			t.Errorf("%d %s: DescribeLimit %q, want %q", tt.limit, tt.basis, got, tt.text)
		}
	}
	if std.MaxDecodedBytes() != 5_000_000 || std.LimitBasis != conneqt.LimitDecoded {
		t.Error("WithAttachmentLimit changed the shared table")
	}
	for _, bad := range []struct {
		limit int64
		basis conneqt.LimitBasis
	}{{-1, ""}, {3, conneqt.LimitBase64}, {10, "base32"}} {
		if _, err := std.WithAttachmentLimit(bad.limit, bad.basis); err == nil {
			t.Errorf("WithAttachmentLimit(%d, %q) accepted", bad.limit, bad.basis)
		}
	}
	if b, err := conneqt.ParseLimitBasis(" Base64 "); err != nil || b != conneqt.LimitBase64 {
		t.Errorf("ParseLimitBasis: %q, %v", b, err)
	}
}

// FuzzMaxDecodedBytes checks the Base64 basis against its definition: the
// largest n whose padded Base64, 4*ceil(n/3), is within the limit.
func FuzzMaxDecodedBytes(f *testing.F) {
	for _, l := range []int64{4, 5, 6, 7, 8, 5_000_000, 5_000_001, 1 << 40} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, limit int64) {
		if limit < 4 || limit > 1<<60 {
			return
		}
		r, err := conneqt.MustRoute(conneqt.Instant).WithAttachmentLimit(limit, conneqt.LimitBase64)
		if err != nil {
			t.Fatal(err)
		}
		n := r.MaxDecodedBytes()
		enc := func(n int64) int64 { return 4 * ((n + 2) / 3) }
		if enc(n) > limit || enc(n+1) <= limit {
			t.Fatalf("limit %d: MaxDecodedBytes %d (Base64 %d, next %d)", limit, n, enc(n), enc(n+1))
		}
	})
}
