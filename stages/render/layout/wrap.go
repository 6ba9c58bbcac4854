package layout

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean prepares free text for layout: line breaks become "\n" (CR LF, CR,
// U+2028 and U+2029 included), a tab becomes four spaces, and every other
// control or format character (including invalid UTF-8) is dropped.
func Clean(s string) string {
	needs := false
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7F || r >= 0x80 && r < 0xA0 || r == utf8.RuneError ||
			r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r) {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // CR LF: the LF makes the break
			}
			b.WriteByte('\n')
		case r == '\n', r == 0x2028, r == 0x2029:
			b.WriteByte('\n')
		case r == '\t':
			b.WriteString("    ")
		case r < 0x20, r == 0x7F, r >= 0x80 && r < 0xA0, r == utf8.RuneError, unicode.Is(unicode.Cf, r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Wrap breaks text into lines no wider than width points when set in font
// at size points. It breaks at spaces; a word wider than the line is broken
// between characters. Line breaks in text are kept, so are blank lines and
// runs of spaces inside a line; spaces at a break and at the end of a line
// are dropped. Text should be passed through Clean first. Wrap never drops a
// character other than those spaces: joining the words of the result gives
// the words of text.
func Wrap(f *Font, size, width float64, text string) []string {
	var lines []string
	for para := range strings.SplitSeq(text, "\n") {
		lines = wrapParagraph(lines, f, size, width, strings.TrimRight(para, " "))
	}
	return lines
}

func wrapParagraph(lines []string, f *Font, size, width float64, para string) []string {
	if para == "" {
		return append(lines, "")
	}
	space := f.RuneWidth(' ', size)
	var (
		start    = -1 // byte offset in para where the current line starts
		end      int  // byte offset where it ends
		lineW    float64
		i        int
		leading  = true // at the start of the paragraph: keep indentation
		pendingS int    // spaces seen since the last word on this line
	)
	flush := func() {
		if start >= 0 {
			lines = append(lines, para[start:end])
		}
		start, lineW, pendingS = -1, 0, 0
	}
	for i < len(para) {
		if para[i] == ' ' {
			pendingS++
			i++
			continue
		}
		j := strings.IndexByte(para[i:], ' ')
		if j < 0 {
			j = len(para)
		} else {
			j += i
		}
		word := para[i:j]
		wordW := f.Width(word, size)
		switch {
		case start < 0 && leading:
			// First word of the paragraph: keep its indentation if it fits.
			ind := float64(pendingS) * space
			if ind+wordW <= width {
				start, end, lineW = i-pendingS, j, ind+wordW
				pendingS = 0
				break
			}
			pendingS = 0
			fallthrough
		case start < 0:
			pendingS = 0
			if wordW <= width {
				start, end, lineW = i, j, wordW
				break
			}
			lines = hardBreak(lines, f, size, width, word, &start, &end, &lineW, i)
		default:
			if w := lineW + float64(pendingS)*space + wordW; w <= width {
				end, lineW, pendingS = j, w, 0
				break
			}
			flush()
			if wordW <= width {
				start, end, lineW = i, j, wordW
				break
			}
			lines = hardBreak(lines, f, size, width, word, &start, &end, &lineW, i)
		}
		leading = false
		i = j
	}
	flush()
	return lines
}

// hardBreak emits full-width pieces of a word too wide for a line and leaves
// the last piece as the current line (start, end, lineW). off is the word's
// offset in the paragraph the caller slices lines from.
func hardBreak(lines []string, f *Font, size, width float64, word string, start, end *int, lineW *float64, off int) []string {
	pieceStart, w := 0, 0.0
	for k, r := range word {
		rw := f.RuneWidth(r, size)
		if w+rw > width && k > pieceStart {
			lines = append(lines, word[pieceStart:k])
			pieceStart, w = k, 0
		}
		w += rw
	}
	*start, *end, *lineW = off+pieceStart, off+len(word), w
	return lines
}
