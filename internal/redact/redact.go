// Package redact is gpdoc's one redaction at the output boundary: every
// string that leaves gpdoc (problems, changes, the backfill report, the
// ledger's problem JSON, the validate command's output, logs, errors)
// passes through it on the way out. It masks NHS numbers and removes the
// secrets registered with it.
//
// An NHS number is a run of ten digits, also written 3-3-4 with spaces or
// dashes ("943 476 5919", "943-476-5919"), that is not part of a longer
// run of digits or of a UUID, and whose check digit passes Modulus 11. It
// becomes nhsnumber.Mask's form, "943***5919". (A ten-digit run that fails
// the check is left alone: byte counts and timestamps stay readable. The
// transport keeps its stricter nhsnumber.Redact for what the service
// says, which masks every number written like an NHS number.)
//
// Secrets are registered with [Register] when a client is made
// (transport.NewClient registers its API key and access token); every
// occurrence, and its JSON- and URL-escaped forms, becomes [Removed].
// Registration is process-wide, so that a log line or report written
// anywhere in the process is covered.
package redact

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
)

// Removed replaces a registered secret.
const Removed = "[redacted]"

// MinSecretLen is the shortest secret Register accepts: removing a shorter
// string would mangle ordinary text.
const MinSecretLen = 8

var (
	mu      sync.RWMutex
	secrets []string // with their escaped forms, longest first
)

// Register adds secrets (API keys, access tokens) to remove from
// everything redacted from now on. Empty and shorter than MinSecretLen
// strings are ignored.
func Register(s ...string) {
	mu.Lock()
	defer mu.Unlock()
	for _, sec := range s {
		if len(sec) < MinSecretLen {
			continue
		}
		forms := []string{sec, url.QueryEscape(sec), url.PathEscape(sec)}
		if b, err := json.Marshal(sec); err == nil {
			forms = append(forms, string(b[1:len(b)-1]))
		}
		for _, f := range forms {
			if !slices.Contains(secrets, f) {
				secrets = append(secrets, f)
			}
		}
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
}

// printed matches what may be an NHS number: ten digits, or 3-3-4 digits
// separated by spaces or dashes.
var printed = regexp.MustCompile(`[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}`)

// uuid matches a UUID, whose digits are never an NHS number.
var uuid = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// String returns s with NHS numbers masked and registered secrets removed.
func String(s string) string {
	s = removeSecrets(s)
	if len(s) < 10 {
		return s
	}
	var skip [][]int
	if strings.Count(s, "-") >= 4 {
		skip = uuid.FindAllStringIndex(s, -1)
	}
	var b strings.Builder
	last := 0
	for _, m := range printed.FindAllStringIndex(s, -1) {
		start, end := m[0], m[1]
		if start > 0 && isDigit(s[start-1]) || end < len(s) && isDigit(s[end]) {
			continue // part of a longer number
		}
		if inside(skip, start, end) || !nhsnumber.Valid(s[start:end]) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(nhsnumber.Mask(s[start:end]))
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func inside(spans [][]int, start, end int) bool {
	for _, sp := range spans {
		if start >= sp[0] && end <= sp[1] {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func removeSecrets(s string) string {
	mu.RLock()
	defer mu.RUnlock()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Removed)
		}
	}
	return s
}

// Strings redacts every element of ss in place and returns it.
func Strings(ss []string) []string {
	for i, s := range ss {
		ss[i] = String(s)
	}
	return ss
}

// JSON returns the JSON text b with every string in it redacted (the
// masks and Removed need no escaping, so the result is valid JSON when b
// is); numbers, keys' structure and everything else are left as they are.
// b is not changed.
func JSON(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				j++
			}
			j++
		}
		if j > len(b) {
			j = len(b)
		}
		raw := string(b[i+1 : j])
		if r := String(raw); r != raw {
			out = append(out, b[last:i+1]...)
			out = append(out, r...)
			last = j
		}
		i = j
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// Error returns err with a redacted message; errors.Is and errors.As still
// see err. nil stays nil, and an error with nothing to redact is returned
// as it is.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := String(msg); r != msg {
		return &redacted{msg: r, err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
