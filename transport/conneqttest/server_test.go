package conneqttest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

type answer struct {
	status  int
	problem conneqt.ProblemDetails
	body    map[string]any
	header  http.Header
}

func post(t *testing.T, s *Server, path string, body []byte, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, s, req)
}

func get(t *testing.T, s *Server, path, key string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if key != "" {
		req.Header.Set("ApiKey", key)
	}
	return do(t, s, req)
}

func do(t *testing.T, s *Server, req *http.Request) answer {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), conneqt.ProblemContentType) {
		if err := json.Unmarshal(data, &a.problem); err != nil {
			t.Fatalf("problem body %q: %v", data, err)
		}
	} else {
		_ = json.Unmarshal(data, &a.body)
	}
	return a
}

func names(ps []conneqt.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	slices.Sort(out)
	return out
}

func TestMessageOutcomes(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	token := s.GrantAccessToken()
	key := map[string]string{"ApiKey": s.APIKey()}
	withToken := map[string]string{"ApiKey": s.APIKey(), "AccessToken": token}

	eicar := SampleMessage(conneqt.Standard)
	eicar.Attachments[0].Data = append([]byte(EICAR), "\r\n"...)
	eicar.Attachments[0].MIMEType = conneqt.MIMEText
	eicar.Attachments[0].FileName = "eicar.txt"

	bad := SampleMessage(conneqt.Standard)
	bad.MessageID = "not-a-uuid"
	bad.Subject.ID.Value = "4857773456" // fails Modulus 11 (docs/spec.md#mistakes-in-the-api-pages)
	bad.Body.MIMEType = conneqt.MIMEHTML
	bad.Attachments[0].FileName = "CON.pdf"

	gpCoded := SampleMessage(conneqt.GPConnect)
	gpCoded.CodedDataItems = []conneqt.CodedDataItem{{Code: "407554009"}}

	tests := []struct {
		name      string
		route     conneqt.RouteName
		body      []byte
		hdr       map[string]string
		status    int
		wantNames []string
	}{
		{"standard accepted", conneqt.Standard, Marshal(SampleMessage(conneqt.Standard)), key, 200, nil},
		{"instant accepted", conneqt.Instant, Marshal(SampleMessage(conneqt.Instant)), withToken, 200, nil},
		{"gpconnect accepted", conneqt.GPConnect, Marshal(SampleMessage(conneqt.GPConnect)), key, 200, nil},
		{"no key", conneqt.Standard, Marshal(SampleMessage(conneqt.Standard)), nil, 401, nil},
		{"unknown key", conneqt.Standard, Marshal(SampleMessage(conneqt.Standard)), map[string]string{"ApiKey": "nope"}, 401, nil},
		{"instant without token", conneqt.Instant, Marshal(SampleMessage(conneqt.Instant)), key, 403, nil},
		{"instant with unknown token", conneqt.Instant, Marshal(SampleMessage(conneqt.Instant)), map[string]string{"ApiKey": s.APIKey(), "AccessToken": "x"}, 403, nil},
		{"virus", conneqt.Standard, Marshal(eicar), key, 406, nil},
		{"every invalid field", conneqt.Standard, Marshal(bad), key, 400,
			[]string{"attachments[0].fileName", "body.mimeType", "messageId", "subject.id.value"}},
		{"wrong type for endpoint", conneqt.Standard, Marshal(SampleMessage(conneqt.GPConnect)), key, 400,
			[]string{"gpConnectAdditionalInformation", "recipient.id.type", "type"}},
		{"coded data on GP Connect", conneqt.GPConnect, Marshal(gpCoded), key, 400, []string{"codedDataItems"}},
		{"unknown and mistyped members", conneqt.Standard,
			[]byte(`{"messageId":"5fd06ef9-8dfd-41de-af35-0d499fdac876","type":"ToolbarMessage","topic":"Health","MessageId":"x","route":"standard",
			"recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},
			"body":{"mimeType":"text/plain","content":"x","fileName":"a.pdf"},
			"attachments":[{"fileName":"a.pdf","mimeType":"application/pdf","content":"JVBE\nRi0x","path":"a.pdf"}],
			"codedDataItems":[{"code":407554009,"unit":"mmHg"}]}`), key, 400,
			[]string{"MessageId", "attachments[0].content", "attachments[0].path", "body.fileName", "codedDataItems[0].code", "codedDataItems[0].unit", "route"}},
		{"not JSON", conneqt.Standard, []byte(`<xml/>`), key, 400, []string{"body"}},
		{"trailing data", conneqt.Standard, append(Marshal(SampleMessage(conneqt.Standard)), " x"...), key, 400, []string{"body"}},
		{"two objects", conneqt.Standard, append(Marshal(SampleMessage(conneqt.Standard)), "{}"...), key, 400, []string{"body"}},
		{"trailing whitespace is fine", conneqt.Standard, append(Marshal(SampleMessage(conneqt.Standard)), " \n"...), key, 200, nil},
		{"unknown topic", conneqt.Standard, Marshal(func() *conneqt.Message { m := SampleMessage(conneqt.Standard); m.Topic = "Gossip"; return m }()), key, 400, []string{"topic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, s, conneqt.MustRoute(tt.route).Path, tt.body, tt.hdr)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d (%+v)", a.status, tt.status, a.problem)
			}
			if tt.status == 200 {
				if ep, _ := a.body["messageStatusEndpoint"].(string); !strings.HasSuffix(ep, "/status") {
					t.Errorf("messageStatusEndpoint %q", ep)
				}
				return
			}
			if a.problem.Status != tt.status {
				t.Errorf("problem status %d, want %d", a.problem.Status, tt.status)
			}
			if tt.wantNames != nil {
				if got := names(a.problem.InvalidParameters); !slices.Equal(got, tt.wantNames) {
					t.Errorf("invalidParameters %v, want %v", got, tt.wantNames)
				}
			}
		})
	}
	st := s.Stats()
	if st.Accepted != 4 || st.Virus != 1 || st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestIdempotency(t *testing.T) {
	s := NewServer(Options{KeepBodies: true})
	defer s.Close()
	key := map[string]string{"ApiKey": s.APIKey()}
	m := SampleMessage(conneqt.GPConnect)
	path := conneqt.MustRoute(conneqt.GPConnect).Path
	first := post(t, s, path, Marshal(m), key)
	// Same content, differently formatted: still the same message.
	var v any
	_ = json.Unmarshal(Marshal(m), &v)
	indented, _ := json.MarshalIndent(v, "", "   ")
	second := post(t, s, path, indented, key)
	if first.status != 200 || second.status != 200 || first.body["messageStatusEndpoint"] != second.body["messageStatusEndpoint"] {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if want := "/api/v1/gpconnect/messages/" + m.MessageID + "/status"; first.body["messageStatusEndpoint"] != want {
		t.Errorf("endpoint %v, want %s", first.body["messageStatusEndpoint"], want)
	}
	m.Body.Content = "changed"
	third := post(t, s, path, Marshal(m), key)
	if third.status != http.StatusConflict {
		t.Errorf("different content: status %d, want 409", third.status)
	}
	st := s.Stats()
	if st.Accepted != 1 || st.Duplicates != 1 || st.Conflicts != 1 || len(s.Accepted()) != 1 {
		t.Errorf("stats %+v", st)
	}
	acc, ok := s.Message(m.MessageID)
	if !ok || !bytes.Equal(acc.Message.Attachments[0].Data, SamplePDF) {
		t.Errorf("stored message lacks its decoded attachment")
	}
}

func TestFaultsBeforeAndAfterStore(t *testing.T) {
	tests := []struct {
		name          string
		fault         Fault
		wantAccepted  int64
		wantDropError bool
	}{
		{"503 before store", Fault{Status: 503, RetryAfter: "2"}, 0, false},
		{"500 after store", Fault{Status: 500, AfterStore: true}, 1, false},
		{"drop before store", Fault{Drop: true}, 0, true},
		{"drop after store", Fault{Drop: true, AfterStore: true}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(Options{})
			defer s.Close()
			s.Script(tt.fault)
			m := SampleMessage(conneqt.GPConnect)
			req, _ := http.NewRequest(http.MethodPost, s.URL+conneqt.MustRoute(conneqt.GPConnect).Path, bytes.NewReader(Marshal(m)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("ApiKey", s.APIKey())
			resp, err := s.Client().Do(req)
			if tt.wantDropError {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("dropped connection gave status %d", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.fault.Status || resp.Header.Get("Retry-After") != tt.fault.RetryAfter {
					t.Errorf("status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
				}
			}
			st := s.Stats()
			if st.Accepted != tt.wantAccepted || st.Faults != 1 {
				t.Errorf("stats %+v", st)
			}
			// The retry is accepted (or a duplicate of the stored message).
			a := post(t, s, conneqt.MustRoute(conneqt.GPConnect).Path, Marshal(m), map[string]string{"ApiKey": s.APIKey()})
			if a.status != 200 {
				t.Fatalf("retry status %d", a.status)
			}
			st = s.Stats()
			if st.Accepted != 1 || st.Duplicates != tt.wantAccepted {
				t.Errorf("after retry: stats %+v", st)
			}
		})
	}
}

func TestFaultRatesDeterministic(t *testing.T) {
	route := conneqt.MustRoute(conneqt.GPConnect)
	run := func() []Fault {
		s := New(Options{Faults: Faults{Seed: 42, UnavailableRate: 0.2, ErrorRate: 0.1, DropRate: 0.1, AfterStoreRate: 0.5}})
		var out []Fault
		for i := range 500 {
			out = append(out, s.decideFault(route, "id-"+string(rune('a'+i%26))+strings.Repeat("x", i/26)))
		}
		return out
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different faults")
	}
	var drops, u503, e500, after int
	for _, f := range a {
		switch {
		case f.Drop:
			drops++
		case f.Status == 503:
			u503++
		case f.Status == 500:
			e500++
		}
		if f.AfterStore {
			after++
		}
	}
	// Loose bounds: 500 draws at 10%/20%/10%.
	if drops < 25 || drops > 80 || u503 < 60 || u503 > 145 || e500 < 25 || e500 > 80 || after == 0 {
		t.Errorf("drops %d 503s %d 500s %d after-store %d", drops, u503, e500, after)
	}
	// 503s strike only the routes they are set for.
	s := New(Options{Faults: Faults{UnavailableRate: 1}})
	if f := s.decideFault(conneqt.MustRoute(conneqt.Standard), "x"); f.active() {
		t.Errorf("503 on the standard route by default: %+v", f)
	}
}

func TestStatusLifecycle(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tick := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := NewServer(Options{Now: clock, DeliverAfter: time.Minute, CompleteAfter: time.Hour})
	defer s.Close()
	tok := s.GrantAccessToken()
	send := func(route conneqt.RouteName, m *conneqt.Message) string {
		a := post(t, s, conneqt.MustRoute(route).Path, Marshal(m), map[string]string{"ApiKey": s.APIKey(), "AccessToken": tok})
		if a.status != 200 {
			t.Fatalf("send: %d %+v", a.status, a.problem)
		}
		return a.body["messageStatusEndpoint"].(string)
	}
	status := func(ep string) MessageStatus {
		t.Helper()
		a := get(t, s, ep, s.APIKey())
		if a.status != 200 {
			t.Fatalf("status %s: %d", ep, a.status)
		}
		b, _ := json.Marshal(a.body)
		var st MessageStatus
		_ = json.Unmarshal(b, &st)
		return st
	}
	std := SampleMessage(conneqt.Standard)
	ep := send(conneqt.Standard, std)
	if st := status(ep); st.Status != StatePending {
		t.Errorf("new: %+v", st)
	}
	tick(2 * time.Minute)
	if st := status(ep); st.Status != StateDelivered {
		t.Errorf("after 2m: %+v", st)
	}
	tick(2 * time.Hour)
	if st := status(ep); st.Status != StateCompleted || st.SubStatus != SubStatusImported {
		t.Errorf("after 2h: %+v", st)
	}
	if err := s.Reject(std.MessageID, "x"); !errors.Is(err, ErrTransition) {
		t.Errorf("reject completed: %v", err)
	}

	inst := SampleMessage(conneqt.Instant)
	send(conneqt.Instant, inst)
	if err := s.FailInstantImport(inst.MessageID); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Status(inst.MessageID); st.Status != StatePending || st.SubStatus != SubStatusFailedImport || st.Type != "ToolbarMessage" {
		t.Errorf("failed import: %+v", st)
	}
	if err := s.FailInstantImport(std.MessageID); !errors.Is(err, ErrTransition) {
		t.Errorf("FailInstantImport on standard: %v", err)
	}

	rej := SampleMessage(conneqt.Standard)
	send(conneqt.Standard, rej)
	if err := s.Reject(rej.MessageID, "wrong patient"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Status(rej.MessageID); st.Status != StateRejected || st.Reason != "wrong patient" {
		t.Errorf("rejected: %+v", st)
	}

	gp := SampleMessage(conneqt.GPConnect)
	gp.ExpiryDateTime = now.Add(30 * time.Second).Format(time.RFC3339)
	gpEP := send(conneqt.GPConnect, gp)
	if !strings.HasPrefix(gpEP, "/api/v1/gpconnect/messages/") {
		t.Errorf("GP Connect endpoint %s", gpEP)
	}
	tick(time.Minute)
	if st := status(gpEP); st.Status != StateExpired {
		t.Errorf("expired: %+v", st)
	}
	if a := get(t, s, "/api/v1/messages/"+gp.MessageID+"/status", s.APIKey()); a.status != 404 {
		t.Errorf("GP Connect message under /messages: %d", a.status)
	}
	if a := get(t, s, ep, ""); a.status != 401 {
		t.Errorf("status without key: %d", a.status)
	}
}

func TestOtherEndpoints(t *testing.T) {
	s := NewServer(Options{Topics: []string{"A", "B"}})
	defer s.Close()
	if a := get(t, s, "/api/v1/test", s.APIKey()); a.status != 200 {
		t.Errorf("test: %d", a.status)
	}
	if a := get(t, s, "/api/v1/test", "wrong"); a.status != 401 {
		t.Errorf("test with wrong key: %d", a.status)
	}
	s.AddAccessCode("JH23MA1Z")
	key := map[string]string{"ApiKey": s.APIKey()}
	a := post(t, s, "/api/v1/messages/instant/access/token", []byte(`{"accessCode":"JH23MA1Z"}`), key)
	tok, _ := a.body["token"].(string)
	if a.status != 200 || tok == "" {
		t.Fatalf("token exchange: %d %v", a.status, a.body)
	}
	if a := post(t, s, "/api/v1/messages/instant/access/token", []byte(`{"accessCode":"JH23MA1Z"}`), key); a.status != http.StatusGone {
		t.Errorf("second use of a code: %d", a.status)
	}
	m := SampleMessage(conneqt.Instant)
	m.Topic = "A"
	if a := post(t, s, conneqt.MustRoute(conneqt.Instant).Path, Marshal(m), map[string]string{"ApiKey": s.APIKey(), "AccessToken": tok}); a.status != 200 {
		t.Errorf("instant with exchanged token: %d %+v", a.status, a.problem)
	}
	st := get(t, s, "/_sim/stats", "")
	if st.status != 200 || st.body["accepted"] != float64(1) {
		t.Errorf("stats: %d %v", st.status, st.body)
	}
}

func TestCheckMessageRules(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	mod := func(route conneqt.RouteName, f func(m *conneqt.Message)) *conneqt.Message {
		m := SampleMessage(route)
		f(m)
		return m
	}
	tests := []struct {
		name  string
		route conneqt.RouteName
		msg   *conneqt.Message
		want  []string
	}{
		{"valid standard", conneqt.Standard, SampleMessage(conneqt.Standard), nil},
		{"valid gpconnect", conneqt.GPConnect, SampleMessage(conneqt.GPConnect), nil},
		{"too many attachments", conneqt.GPConnect, mod(conneqt.GPConnect, func(m *conneqt.Message) {
			m.Attachments = append(m.Attachments, m.Attachments[0])
		}), []string{"attachments", "attachments[1].fileName"}}, // a duplicate name too
		{"png on instant, too big, bad notes", conneqt.Instant, mod(conneqt.Instant, func(m *conneqt.Message) {
			m.Attachments = []*conneqt.Attachment{
				{FileName: "a.png", MIMEType: conneqt.MIMEPNG, Data: []byte{1}},
				{FileName: "b.pdf", MIMEType: conneqt.MIMEPDF, Data: make([]byte, conneqt.DefaultMaxAttachmentBytes+1)},
				{FileName: "notes ", MIMEType: conneqt.MIMEConsultation, Data: []byte{0xff, 0xfe}},
			}
		}), []string{"attachments[0].mimeType", "attachments[0].mimeType", "attachments[1].content", "attachments[1].mimeType", "attachments[2].content", "attachments[2].fileName"}},
		{"expiry", conneqt.Standard, mod(conneqt.Standard, func(m *conneqt.Message) {
			m.ExpiryDateTime = now.Add(40 * 24 * time.Hour).Format(time.RFC3339)
		}), []string{"expiryDateTime"}},
		{"standard body missing", conneqt.Standard, mod(conneqt.Standard, func(m *conneqt.Message) { m.Body = nil }), []string{"body"}},
		{"bad SCTID", conneqt.Standard, mod(conneqt.Standard, func(m *conneqt.Message) { m.CodedDataItems[0].Code = "407554008" }), []string{"codedDataItems[0].code"}},
		{"gp info", conneqt.GPConnect, mod(conneqt.GPConnect, func(m *conneqt.Message) {
			g := m.GPConnectAdditionalInformation
			g.RecipientType, g.Confidentiality, g.VersionNumber, g.Patient.DateOfBirth = "FA", nil, 2, "2999-01-01"
			m.Recipient.ID.Value = "not an ods code"
		}), []string{"gpConnectAdditionalInformation.confidentiality", "gpConnectAdditionalInformation.patient.dateOfBirth",
			"gpConnectAdditionalInformation.recipientType", "gpConnectAdditionalInformation.relatesTo", "recipient.id.value"}},
		{"gp literal recipient", conneqt.GPConnect, mod(conneqt.GPConnect, func(m *conneqt.Message) { m.Recipient.ID.Value = "UNK" }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(CheckMessage(conneqt.MustRoute(tt.route), tt.msg, now))
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems %v, want %v (%v)", got, tt.want, CheckMessage(conneqt.MustRoute(tt.route), tt.msg, now))
			}
		})
	}
}

func TestCheckMessageHidesNHSNumber(t *testing.T) {
	m := SampleMessage(conneqt.Standard)
	m.Subject.ID.Value = "4857773456"
	for _, p := range CheckMessage(conneqt.MustRoute(conneqt.Standard), m, time.Now()) {
		if strings.Contains(p.Value, "4857773456") {
			t.Errorf("problem shows the full NHS number: %v", p)
		}
	}
}

func TestDecodeMessageBase64(t *testing.T) {
	for _, tt := range []struct {
		content string
		ok      bool
	}{
		{base64.StdEncoding.EncodeToString([]byte("hello")), true},
		{base64.RawStdEncoding.EncodeToString([]byte("hello")), false},
		{base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff}), false},
		{"aGVs\nbG8=", false},
	} {
		body := `{"attachments":[{"content":"` + strings.ReplaceAll(tt.content, "\n", `\n`) + `"}]}`
		_, probs, err := DecodeMessage([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if (len(probs) == 0) != tt.ok {
			t.Errorf("%q: problems %v", tt.content, probs)
		}
	}
}
