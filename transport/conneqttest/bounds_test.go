package conneqttest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

func TestAcceptedKeptAsDigests(t *testing.T) {
	sum := sha256.Sum256(SamplePDF)
	tests := []struct {
		name     string
		opts     Options
		wantKept []bool
	}{
		{"bodies up to the cap", Options{MaxKeptBytes: int64(len(SamplePDF))}, []bool{true, false, false}},
		{"KeepBodies keeps all", Options{MaxKeptBytes: 1, KeepBodies: true}, []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(tt.opts)
			defer s.Close()
			for range tt.wantKept {
				if a := post(t, s, "/api/v1/messages", Marshal(SampleMessage(conneqt.Standard)), map[string]string{"ApiKey": s.APIKey()}); a.status != http.StatusOK {
					t.Fatalf("status %d: %+v", a.status, a.problem)
				}
			}
			for i, acc := range s.Accepted() {
				d := acc.Attachments
				if len(d) != 1 || d[0].SHA256 != hex.EncodeToString(sum[:]) || d[0].Size != int64(len(SamplePDF)) || d[0].FileName != "Consultation summary.pdf" || d[0].MIMEType != conneqt.MIMEPDF {
					t.Errorf("message %d: digests %+v", i, d)
				}
				if kept := acc.Message.Attachments[0].Data != nil; kept != tt.wantKept[i] || acc.BodiesKept != kept {
					t.Errorf("message %d: data kept %v (BodiesKept %v), want %v", i, kept, acc.BodiesKept, tt.wantKept[i])
				}
			}
		})
	}
}

// holdBody starts a message request of length n whose body stops after a
// few bytes, and waits until the server has reserved it. Closing the
// returned writer ends it.
func holdBody(t *testing.T, s *Server, n int64) *io.PipeWriter {
	t.Helper()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/messages", pr)
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ApiKey", s.APIKey())
	go func() {
		if resp, err := s.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	go pw.Write([]byte(`{"messageId":`))
	waitFor(t, func() bool { return s.Stats().BodyBytesInFlight == n })
	return pw
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		if d, ok := t.Deadline(); ok && time.Until(d) < time.Second {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBodyBytesInFlight(t *testing.T) {
	s := NewServer(Options{MaxBodyBytesInFlight: 1000, MaxBodyBytes: 2000, BodyWait: time.Millisecond})
	defer s.Close()
	held := holdBody(t, s, 600)
	key := map[string]string{"ApiKey": s.APIKey()}

	// No room for 500 more bytes: 503 with Retry-After.
	a := post(t, s, "/api/v1/messages", []byte(strings.Repeat(" ", 500)), key)
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("with the budget taken: %d (Retry-After %q), want 503 with Retry-After", a.status, a.header.Get("Retry-After"))
	}
	// Larger than the whole budget, or than a body may be: 413.
	for _, n := range []int{1001, 2001} {
		if a := post(t, s, "/api/v1/messages", []byte(strings.Repeat(" ", n)), key); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%d-byte body: %d, want 413", n, a.status)
		}
	}
	held.CloseWithError(errors.New("client gone"))
	waitFor(t, func() bool { return s.Stats().BodyBytesInFlight == 0 })
	// Room again: a valid message is accepted.
	if a := post(t, s, "/api/v1/messages", Marshal(smallMessage()), key); a.status != http.StatusOK {
		t.Errorf("after release: %d %+v", a.status, a.problem)
	}
	if st := s.Stats(); st.Overloaded != 3 || st.ByStatus["503"] != 1 || st.ByStatus["413"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

func smallMessage() *conneqt.Message {
	m := SampleMessage(conneqt.Standard)
	m.Attachments = []*conneqt.Attachment{{FileName: "a.txt", MIMEType: conneqt.MIMEText, Data: []byte("hi")}}
	return m
}

// TestSlowBodyIsCutOff: a body that stops arriving holds its connection and
// its bytes only until ReadTimeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := NewServer(Options{ReadTimeout: 50 * time.Millisecond})
	defer s.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nApiKey: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"messageId\":", s.APIKey())
	waitFor(t, func() bool { return s.Stats().BodyBytesInFlight > 0 })
	// The server gives up on the body and closes the connection; without a
	// read timeout this would wait for the test's deadline.
	if d, ok := t.Deadline(); ok {
		conn.SetReadDeadline(d.Add(-time.Second))
	}
	_, err = io.ReadAll(bufio.NewReader(conn))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept a stalled body's connection open")
	}
	waitFor(t, func() bool { return s.Stats().BodyBytesInFlight == 0 })
}

func TestServerTimeouts(t *testing.T) {
	s := New(Options{ReadTimeout: time.Minute})
	hs := s.HTTPServer()
	if hs.ReadHeaderTimeout != DefaultReadHeaderTimeout || hs.ReadTimeout != time.Minute || hs.IdleTimeout != DefaultIdleTimeout {
		t.Errorf("timeouts %v %v %v", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.IdleTimeout)
	}
	u := NewUnstartedServer(Options{})
	if u.hs.Config.ReadTimeout != DefaultReadTimeout || u.hs.Config.ReadHeaderTimeout == 0 || u.hs.Config.IdleTimeout == 0 {
		t.Errorf("NewUnstartedServer's timeouts: %+v", u.hs.Config)
	}
}
