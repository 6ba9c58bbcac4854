package conneqttest

import (
	"strconv"
	"strings"
)

// minBigValue is the shortest string value bigValues sets aside (a
// variable for the tests).
var minBigValue = 4096

// bigPrefix starts the placeholder of a value set aside: a NUL, which a
// JSON text can only hold escaped, then the value's index.
const bigPrefix = "\\u0000gpdoc-big-"

// isBase64 marks the bytes of the standard Base64 alphabet, with '='.
var isBase64 = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()

// bigValues returns body with each string value of at least minBigValue
// bytes made only of Base64 characters (no escapes, so its JSON text is
// its value) replaced by a short placeholder string, and those values in
// order; big is nil when there is none, or when body does not scan as
// JSON strings and structure (the caller then decodes body itself). Only
// values are set aside (a string followed by ',', '}', ']' or the end),
// never member names.
func bigValues(body []byte) (small []byte, big []string) {
	last := 0
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		j, plain := i+1, true
		for ; j < len(body) && body[j] != '"'; j++ {
			c := body[j]
			if c == '\\' {
				plain = false
				j++
				continue
			}
			plain = plain && isBase64[c]
		}
		if j >= len(body) {
			return nil, nil // an unterminated string: let the decoder say so
		}
		if plain && j-i-1 >= minBigValue && isValueEnd(body[j+1:]) {
			small = append(small, body[last:i]...)
			small = append(small, '"')
			small = append(small, bigPrefix...)
			small = strconv.AppendInt(small, int64(len(big)), 10)
			small = append(small, '"')
			big = append(big, string(body[i+1:j]))
			last = j + 1
		}
		i = j
	}
	if big == nil {
		return nil, nil
	}
	return append(small, body[last:]...), big
}

// isValueEnd reports whether what follows a string makes it a value: the
// next byte that is not JSON white space is ',', '}' or ']', or there is
// none.
func isValueEnd(rest []byte) bool {
	for _, c := range rest {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ',', '}', ']':
			return true
		}
		return false
	}
	return true
}

// restoreBig puts the values bigValues set aside back into tree, in place
// of their placeholders. It reports false (the caller then decodes the
// whole body) unless every placeholder was found exactly once and no other
// string of the tree looks like one: a body could hold such a string
// itself.
func restoreBig(tree any, big []string) bool {
	seen := make([]bool, len(big))
	ok := true
	var visit func(v any) any
	visit = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if strings.HasPrefix(k, "\x00gpdoc-big-") {
					ok = false
				}
				x[k] = visit(e)
			}
		case []any:
			for i, e := range x {
				x[i] = visit(e)
			}
		case string:
			rest, found := strings.CutPrefix(x, "\x00gpdoc-big-")
			if !found {
				return x
			}
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n >= len(big) || seen[n] || strconv.Itoa(n) != rest {
				ok = false
				return x
			}
			seen[n] = true
			return big[n]
		}
		return v
	}
	visit(tree)
	for _, s := range seen {
		ok = ok && s
	}
	return ok
}
