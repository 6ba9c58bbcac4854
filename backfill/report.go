package backfill

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
)

// ReportWindow bounds the memory the report's ordering takes: results that
// finish ahead of a slower earlier line are held back, up to this many; past
// it, the held results are written (in line order among themselves) and the
// slower line comes after them. Below the window, a run's report is in
// manifest line order.
const ReportWindow = 4096

// reportOrder writes a run's report lines in intake order (manifest line
// order): a result is written once every line taken before it has
// finished. Every report line carries the run's id and its finish time, so
// a report appended to by several runs can be split by run.
type reportOrder struct {
	w     io.Writer
	next  int            // the lowest intake number not yet written
	held  map[int]Result // finished, waiting for an earlier line
	early map[int]bool   // written ahead of next because the window overflowed
}

func newReportOrder(w io.Writer) *reportOrder {
	return &reportOrder{w: w, held: map[int]Result{}, early: map[int]bool{}}
}

// done takes one finished result and writes what is now in order.
func (o *reportOrder) done(res Result) error {
	o.held[res.seq] = res
	for {
		if r, ok := o.held[o.next]; ok {
			delete(o.held, o.next)
			if err := o.write(r); err != nil {
				return err
			}
		} else if o.early[o.next] {
			delete(o.early, o.next)
		} else {
			break
		}
		o.next++
	}
	if len(o.held) > ReportWindow {
		for _, seq := range slices.Sorted(maps.Keys(o.held)) {
			if err := o.write(o.held[seq]); err != nil {
				return err
			}
			delete(o.held, seq)
			o.early[seq] = true
		}
	}
	return nil
}

// flush writes whatever is held, in order: lines taken but never finished
// (a stop while waiting for the rate limit) leave gaps.
func (o *reportOrder) flush() error {
	for _, seq := range slices.Sorted(maps.Keys(o.held)) {
		if err := o.write(o.held[seq]); err != nil {
			return err
		}
		delete(o.held, seq)
	}
	return nil
}

func (o *reportOrder) write(r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = o.w.Write(append(redactJSON(b), '\n'))
	return err
}
