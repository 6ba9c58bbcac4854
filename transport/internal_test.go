package transport

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"Mon, 05 Jan 2026 09:01:00 GMT", time.Minute, true},
		{"Monday, 05-Jan-26 09:00:30 GMT", 30 * time.Second, true},
		{"Mon, 05 Jan 2026 08:00:00 GMT", 0, true}, // in the past
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "Mon, 05 Jan 2026 09:01:00 GMT", "Monday, 05-Jan-26 09:00:30 GMT", "Mon Jan  5 09:00:30 2026", "-5", "9223372036"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

func TestParseProblemAndPrefix(t *testing.T) {
	tests := []struct {
		body    string
		problem bool
	}{
		{`{"type":"https://x","title":"Request Validation Error","status":400,"invalidParameters":[{"name":"recipient","reason":"Unknown Recipient"}]}`, true},
		{`{"title":"Virus Scan Failed","status":503,"unknownMember":1}`, true},
		{`{}`, false},
		{`[]`, false},
		{`<html>Bad gateway</html>`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := parseProblem([]byte(tt.body)); (got != nil) != tt.problem {
			t.Errorf("parseProblem(%q) = %+v", tt.body, got)
		}
	}
	long := strings.Repeat("é", 400) // 800 bytes
	if p := prefix([]byte(long)); len(p) > maxBodyPrefix || !utf8.ValidString(p) {
		t.Errorf("prefix: %d bytes, valid %v", len(p), utf8.ValidString(p))
	}
}

func FuzzErrorBody(f *testing.F) {
	f.Add([]byte(`{"type":"https://x","title":"t","status":400,"invalidParameters":[{"name":"a","reason":"b","value":"c"}]}`))
	f.Add([]byte(`{"invalidParameters":[null, {"name":1}]}`))
	f.Add([]byte("\xff\xfe<html>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		p := parseProblem(body)
		e := &APIError{Method: "POST", Path: "/api/v1/messages", Status: 400, Problem: p}
		if p == nil {
			e.BodyPrefix = prefix(body)
			if len(e.BodyPrefix) > maxBodyPrefix || !utf8.ValidString(e.BodyPrefix) {
				t.Fatalf("prefix %q", e.BodyPrefix)
			}
		}
		_ = e.Error()
		_ = e.Unwrap()
	})
}

func TestParseTopics(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`["A","B"]`, "A,B", true},
		{`[{"name":"A"},{"code":"B"}]`, "A,B", true},
		{`{"topics":["A"]}`, "A", true},
		{`[]`, "", true},
		{`[1]`, "", false},
		{`{"x":1}`, "", false},
	}
	for _, tt := range tests {
		got, err := parseTopics([]byte(tt.in))
		if (err == nil) != tt.ok || strings.Join(got, ",") != tt.want {
			t.Errorf("parseTopics(%s) = %v, %v", tt.in, got, err)
		}
	}
}

func FuzzParseTopics(f *testing.F) {
	f.Add([]byte(`["A","B"]`))
	f.Add([]byte(`{"topics":[{"name":"A"},{"topic":"B"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseTopics(b)
		if err != nil && got != nil {
			t.Fatalf("topics %v with error %v", got, err)
		}
	})
}

func TestScheduleFullJitter(t *testing.T) {
	s := newSchedule(100*time.Millisecond, 400*time.Millisecond)
	caps := []time.Duration{100, 200, 400, 400, 400}
	for i, c := range caps {
		if d := s.next(); d < 0 || d > c*time.Millisecond {
			t.Errorf("wait %d = %v, outside [0, %v]", i, d, c*time.Millisecond)
		}
	}
	// Full jitter: over many draws the waits spread over the interval.
	var lo, hi int
	for range 1000 {
		s := newSchedule(time.Second, time.Second)
		d := s.next()
		if d < 250*time.Millisecond {
			lo++
		}
		if d > 750*time.Millisecond {
			hi++
		}
	}
	if lo < 100 || hi < 100 {
		t.Errorf("waits not spread: %d below 1/4, %d above 3/4", lo, hi)
	}
}
