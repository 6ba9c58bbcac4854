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
