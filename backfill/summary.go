package backfill

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
)

// WriteTable prints the summary as a small table: sent, invalid, failed,
// skipped, bytes, elapsed, messages/s, then every outcome seen.
func (s Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	sent := "sent"
	if s.DryRun {
		sent = "prepared"
	}
	rows := []struct {
		k string
		v any
	}{
		{sent, s.Sent},
		{"invalid", s.Invalid},
		{"failed", s.Failed},
		{"skipped", s.Skipped},
		{"bytes", humanBytes(s.Bytes)},
		{"elapsed", s.Elapsed.Round(s.Elapsed/1000 + 1).String()},
		{"messages/s", fmt.Sprintf("%.1f", s.MessagesPerSecond())},
	}
	for _, extra := range []struct {
		k string
		v int64
	}{{"interrupted", s.Abandoned}, {"busy (another worker)", s.Busy}, {"lease lost", s.LeaseLost}, {"taken over", s.TakeOvers}} {
		if extra.v > 0 {
			rows = append(rows, struct {
				k string
				v any
			}{extra.k, extra.v})
		}
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%v\t\n", r.k, r.v)
	}
	// The outcomes the rows above lump together.
	keys := make([]string, 0, len(s.ByOutcome))
	for k := range s.ByOutcome {
		switch k {
		case OutcomeSent, OutcomePrepared, OutcomeInvalid, OutcomeSkipped, OutcomeInterrupted, OutcomeBusy, OutcomeLeaseLost:
		default:
			keys = append(keys, string(k))
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "  of which %s\t%d\t\n", k, s.ByOutcome[Outcome(k)])
	}
	return tw.Flush()
}

func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// CountLines counts the lines of the file at path if it is at most maxBytes
// long (a cheap pre-pass for the progress total), and returns -1 otherwise.
// The count includes blank lines, so it is an upper bound of the messages.
func CountLines(path string, maxBytes int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return -1, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxBytes {
		return -1, nil
	}
	buf := make([]byte, 1<<20)
	var n int64
	var last byte = '\n'
	for {
		k, err := f.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return -1, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}
