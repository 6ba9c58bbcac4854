package conneqttest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

func fuzzSeeds(f *testing.F) {
	for _, r := range conneqt.RouteNames() {
		f.Add(Marshal(SampleMessage(r)))
	}
	f.Add([]byte(`{"messageId":1,"attachments":[{"content":"!!"}],"codedDataItems":[{"value":"x"}],"gpConnectAdditionalInformation":{"versionNumber":"2"}}`))
	f.Add([]byte(`{"attachments":[null,1,{"content":null}],"body":[],"recipient":{"id":"x"}}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"a":1}{"b":2}`))
}

// FuzzDecodeMessage: decoding never panics, validation of whatever decodes
// never panics, and a message that decodes cleanly re-encodes to one that
// decodes cleanly to the same thing.
func FuzzDecodeMessage(f *testing.F) {
	fuzzSeeds(f)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, probs, err := DecodeMessage(body)
		if err != nil {
			return
		}
		for _, r := range conneqt.RouteNames() {
			_ = CheckMessage(conneqt.MustRoute(r), msg, now)
		}
		if len(probs) > 0 {
			return
		}
		again := Marshal(msg)
		msg2, probs2, err := DecodeMessage(again)
		if err != nil || len(probs2) > 0 {
			t.Fatalf("re-encoded message does not decode cleanly: %v %v\n%s", err, probs2, again)
		}
		if !bytes.Equal(Marshal(msg2), again) {
			t.Fatalf("round trip changed the message")
		}
	})
}

// FuzzServer: whatever the body, the simulator answers (no panic) with one
// of the statuses the API documents, and only accepts what validates.
func FuzzServer(f *testing.F) {
	fuzzSeeds(f)
	s := New(Options{APIKeys: []string{"k"}, AccessTokens: []string{"t"}})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, r := range conneqt.RouteNames() {
			req := httptest.NewRequest(http.MethodPost, conneqt.MustRoute(r).Path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("ApiKey", "k")
			req.Header.Set("AccessToken", "t")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			switch rec.Code {
			case 200, 400, 406, 409:
			default:
				t.Fatalf("%s: status %d: %s", r, rec.Code, rec.Body)
			}
		}
	})
}
