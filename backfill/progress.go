package backfill

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress is told how a run goes. Update is called once per manifest line,
// one call at a time, on the run's hot path: it must be quick.
type Progress interface {
	// Start begins a run of total lines (<= 0: unknown).
	Start(total int64)
	// Update reports one line's result and the totals so far.
	Update(r Result, c Counts)
	// Finish ends the run.
	Finish(s Summary)
}

// NewBarProgress draws a progress bar on w (a terminal): finished/total
// when the total is known, the rate of finished messages (per second, from
// the first frame), ETA, and counts by outcome. On a terminal that reports
// no width a bar cannot be drawn: use [NewTerminalProgress], which falls
// back to log lines there.
func NewBarProgress(w io.Writer) Progress { return &barProgress{w: w} }

// NewTerminalProgress returns a bar on a terminal that reports its width,
// and log lines every interval ([NewLogProgress]) anywhere else: a file, a
// pipe, or a terminal without a width (some CI runners and serial
// consoles), where a bar would be drawn empty.
func NewTerminalProgress(w io.Writer, interval time.Duration) Progress {
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return NewBarProgress(w)
		}
	}
	return NewLogProgress(w, interval, false)
}

type barProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
}

func (p *barProgress) Start(total int64) {
	if total <= 0 {
		total = -1 // a spinner
	}
	p.start = time.Now()
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("backfill"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetWidth(30),
	)
	p.bar.Describe(barLine(Counts{}, 0))
}

// Update is called once per finished message, so the bar counts finished
// messages, not started ones.
func (p *barProgress) Update(_ Result, c Counts) {
	if now := time.Now(); now.Sub(p.last) > 200*time.Millisecond {
		p.last = now
		p.bar.Describe(barLine(c, now.Sub(p.start)))
	}
	p.bar.Add64(1)
}

func (p *barProgress) Finish(s Summary) {
	p.bar.Describe(barLine(s.Counts, s.Elapsed))
	if s.Interrupted {
		p.bar.Exit()
	} else {
		p.bar.Finish()
	}
	fmt.Fprintln(p.w)
}

// barLine is the bar's description: the rate of finished messages and the
// counts. The rate is per second, and "-" until a message has finished.
func barLine(c Counts, elapsed time.Duration) string {
	rate := "- msg/s"
	if c.Done > 0 && elapsed > 0 {
		rate = fmt.Sprintf("%.1f msg/s", float64(c.Done)/elapsed.Seconds())
	}
	return rate + ", " + countsLine(c)
}

func countsLine(c Counts) string {
	return fmt.Sprintf("sent %d, invalid %d, failed %d, skipped %d", c.Sent, c.Invalid, c.Failed, c.Skipped)
}

// NewLogProgress prints a plain line to w every interval (for logs, when the
// output is not a terminal): done/total, counts by outcome, rate and ETA.
// With asJSON each line is a JSON object instead.
func NewLogProgress(w io.Writer, interval time.Duration, asJSON bool) Progress {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	return &logProgress{w: w, interval: interval, json: asJSON}
}

type logProgress struct {
	w        io.Writer
	interval time.Duration
	json     bool

	mu     sync.Mutex
	total  int64
	counts Counts
	start  time.Time
	stop   chan struct{}
	wg     sync.WaitGroup
}

func (p *logProgress) Start(total int64) {
	p.total, p.start, p.stop = total, time.Now(), make(chan struct{})
	p.wg.Go(func() {
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.mu.Lock()
				c := p.counts
				p.mu.Unlock()
				p.print("progress", c, time.Since(p.start))
			case <-p.stop:
				return
			}
		}
	})
}

func (p *logProgress) Update(_ Result, c Counts) {
	p.mu.Lock()
	p.counts = c
	p.mu.Unlock()
}

func (p *logProgress) Finish(s Summary) {
	close(p.stop)
	p.wg.Wait()
	event := "finished"
	if s.Interrupted {
		event = "stopped"
	}
	p.print(event, s.Counts, s.Elapsed)
}

// progressLine is the JSON form of a log line.
type progressLine struct {
	Event      string  `json:"event"`
	Done       int64   `json:"done"`
	Total      int64   `json:"total,omitempty"`
	Sent       int64   `json:"sent"`
	Invalid    int64   `json:"invalid"`
	Failed     int64   `json:"failed"`
	Skipped    int64   `json:"skipped"`
	Bytes      int64   `json:"bytes"`
	ElapsedSec float64 `json:"elapsedSeconds"`
	Rate       float64 `json:"messagesPerSecond"`
	ETASec     float64 `json:"etaSeconds,omitempty"`
}

func (p *logProgress) print(event string, c Counts, elapsed time.Duration) {
	l := progressLine{Event: event, Done: c.Done, Sent: c.Sent, Invalid: c.Invalid, Failed: c.Failed,
		Skipped: c.Skipped, Bytes: c.Bytes, ElapsedSec: elapsed.Seconds()}
	if p.total > 0 {
		l.Total = p.total
	}
	if elapsed > 0 {
		l.Rate = float64(c.Done) / elapsed.Seconds()
	}
	if p.total > c.Done && l.Rate > 0 && event == "progress" {
		l.ETASec = float64(p.total-c.Done) / l.Rate
	}
	if p.json {
		b, _ := json.Marshal(l)
		p.w.Write(append(b, '\n'))
		return
	}
	done := fmt.Sprint(c.Done)
	if l.Total > 0 {
		done = fmt.Sprintf("%d/%d", c.Done, l.Total)
	}
	eta := ""
	if l.ETASec > 0 {
		eta = ", ETA " + (time.Duration(l.ETASec) * time.Second).String()
	}
	fmt.Fprintf(p.w, "backfill %s: %s lines (%s), %.0f msg/s%s\n", event, done, countsLine(c), l.Rate, eta)
}
