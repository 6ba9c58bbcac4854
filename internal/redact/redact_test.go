package redact_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/internal/redact"
)

// 9434765919 and 9690937286 pass Modulus 11; 9434765918 does not.
const secret = "sk_live_Kq7\"<x>&y/z+1"

func init() { redact.Register(secret, "short") }

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cannot read letters/9434765919.pdf: no such file", "cannot read letters/943***5919.pdf: no such file"},
		{"renamed nhs9434765919 letter.pdf", "renamed nhs943***5919 letter.pdf"},
		{"got \"943 476 5919\" in recipient", "got \"943***5919\" in recipient"},
		{"dashed 943-476-5919.", "dashed 943***5919."},
		{"two: 9434765919, 9690937286", "two: 943***5919, 969***7286"},
		{"fails the check: 9434765918", "fails the check: 9434765918"},
		{"longer run 194347659190", "longer run 194347659190"},
		{"id 3f2504e0-4f89-11d3-9a0c-039434765919", "id 3f2504e0-4f89-11d3-9a0c-039434765919"},
		{"server said: key " + secret + " is bad", "server said: key [redacted] is bad"},
		{"short is not removed", "short is not removed"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redact.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJSON(t *testing.T) {
	in, err := json.Marshal(map[string]any{
		"value":   "9434765919",
		"bytes":   9434765919, // a number, not text: left alone
		"detail":  "key " + secret,
		"changes": []string{"a 943 476 5919.pdf"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := redact.JSON(in)
	if !json.Valid(out) {
		t.Fatalf("not JSON: %s", out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got["value"] != "943***5919" || got["bytes"] != float64(9434765919) || got["detail"] != "key [redacted]" ||
		got["changes"].([]any)[0] != "a 943***5919.pdf" {
		t.Errorf("JSON = %s", out)
	}
}

func TestError(t *testing.T) {
	base := &fs.PathError{Op: "open", Path: "in/9434765919.pdf", Err: fs.ErrNotExist}
	err := redact.Error(base)
	if strings.Contains(err.Error(), "9434765919") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Error = %v (Is ErrNotExist %v)", err, errors.Is(err, fs.ErrNotExist))
	}
	plain := errors.New("nothing to hide")
	if redact.Error(plain) != plain || redact.Error(nil) != nil {
		t.Error("Error wrapped an error with nothing to redact")
	}
}

type stringer struct{}

func (stringer) String() string { return "patient 9434765919" }

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil))).With("key", secret)
	log.Info("sent for 943 476 5919",
		"path", "a/9434765919.pdf",
		"err", errors.New("body echoes "+secret),
		"who", stringer{},
		slog.Group("g", "nhs", "9690937286"),
		"count", 9434765919,
		"bytes", 1234,
		"list", []string{"9434765919"})
	out := buf.String()
	for _, leak := range []string{"9434765919", "943 476 5919", "9690937286", "sk_live"} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaks %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, "943***5919") || !strings.Contains(out, redact.Removed) {
		t.Errorf("log = %s", out)
	}
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"a":"9434765919","b":[1,"943 476 5919"],"c":"\"\\u00e9 9690937286"}`))
	f.Add([]byte(`"unterminated 9434765919`))
	f.Add([]byte(`{"k":"` + "sk_live_Kq7\\\"\\u003cx\\u003e\\u0026y/z+1" + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := redact.JSON(b)
		if json.Valid(b) && !json.Valid(out) {
			t.Fatalf("valid JSON %q became invalid %q", b, out)
		}
		if again := redact.JSON(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		// gpdoc's JSON comes from encoding/json, which never escapes a
		// digit, a space or a dash.
		if json.Valid(b) && !bytes.Contains(b, []byte(`\u`)) {
			var v any
			json.Unmarshal(out, &v)
			for _, s := range stringsIn(v) {
				if strings.Contains(s, "9434765919") {
					t.Fatalf("leak in %q", out)
				}
			}
		}
	})
}

// stringsIn lists the strings (keys and values) of a decoded JSON value.
func stringsIn(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, stringsIn(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, k)
			out = append(out, stringsIn(e)...)
		}
		return out
	}
	return nil
}
