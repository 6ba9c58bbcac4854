package pipeline

import "time"

// EventKind says what an Event reports.
type EventKind uint8

// The event kinds, in the order a document produces them.
const (
	StageStarted EventKind = iota + 1
	StageFinished
	DocumentFinished
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case StageStarted:
		return "stage-started"
	case StageFinished:
		return "stage-finished"
	case DocumentFinished:
		return "document-finished"
	}
	return "unknown"
}

// Event is what an Observer sees. Fields may be added; Observers must ignore
// what they do not use.
type Event struct {
	Kind       EventKind
	DocumentID string
	Stage      string // empty for DocumentFinished
	Attachment int    // attachment index, or -1 for message stages and documents
	// BytesIn and BytesOut are the attachment bytes before and after the
	// stage (for a message stage: all attachments, or the payload once
	// assembled). Set on StageFinished and DocumentFinished.
	BytesIn, BytesOut int64
	Elapsed           time.Duration // set on StageFinished and DocumentFinished
	Err               error         // the stage's or document's outcome
}

// Observer receives events. It is called from many goroutines at once and
// must be safe for concurrent use and quick: it runs on the hot path.
type Observer interface {
	Observe(Event)
}

// ObserverFunc turns a function into an Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }
