package pipeline

import (
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// Document is one unit of work: one message on one route, plus everything
// gpdoc records about it on the way. Attachment stages run concurrently on
// different attachments of the same Document: they may change only their own
// *Attachment, and must record problems, warnings and changes through the
// Add* methods, which are safe for concurrent use.
type Document struct {
	// Line is the 1-based manifest line this document came from (0 if none).
	Line int
	// SourceID is the sending system's own id for the document, if given.
	SourceID string
	// Route holds the rules of the route the message is sent on.
	Route *conneqt.Route
	// Message is the wire message.
	Message *conneqt.Message
	// Consultation is the manifest's "consultation" object, the input of the
	// render stage; nil when there is none.
	Consultation json.RawMessage
	// ReferenceTime is the time of the first claim recorded in the ledger;
	// used wherever the message needs "now" (the consultation report's
	// sentDateTime default and its PDF dates), so that a resend carries the
	// same bytes. Zero means the renderer uses the consultation's own dates
	// only (sentDateTime, else consultationDateTime), never the clock.
	ReferenceTime time.Time
	// Folders are where the Runner may read attachment files from: an
	// Attachment.Path must resolve, after following symlinks, inside one of
	// them. The manifest reader sets the manifest's folder and any folder
	// given with --allow-path. Empty: no attachment file is read.
	Folders []string

	// Payload is the assembled wire body, set by the assemble stage.
	Payload Payload
	// StatusEndpoint is the messageStatusEndpoint the service returned.
	StatusEndpoint string

	mu       sync.Mutex
	toCome   int
	problems []conneqt.Problem
	warnings []conneqt.Problem
	changes  []Change
	memo     map[memoKey]any
}

type memoKey struct {
	i   int
	key any
}

// Remember keeps v under key for attachment i, for a later stage to
// [Document.Recall]: work one stage did on the attachment's bytes that
// another can reuse instead of doing it again (validate's parsed PDF,
// which sanitise reuses rather than parse the same bytes twice). key is
// any comparable value, best an unexported type of the package that owns
// v; a nil v forgets. What is kept lives until it is forgotten (the stage
// that last needs it should forget it) or, at the latest, until the end of
// the check phase, when the Runner forgets everything: work kept for the
// check phase must not hold memory through the rest. The one who
// recalls it must check that it still fits the attachment (the bytes may
// have changed since). Safe for concurrent use.
func (d *Document) Remember(i int, key, v any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := memoKey{i, key}
	if v == nil {
		delete(d.memo, k)
		return
	}
	if d.memo == nil {
		d.memo = map[memoKey]any{}
	}
	d.memo[k] = v
}

// forgetAll drops everything kept with Remember.
func (d *Document) forgetAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.memo = nil
}

// Recall returns what [Document.Remember] kept under key for attachment i,
// or nil. Safe for concurrent use.
func (d *Document) Recall(i int, key any) any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.memo[memoKey{i, key}]
}

// Payload is an assembled message body: its exact size is known up front and
// it can be read any number of times (once per send attempt).
type Payload interface {
	// Size is the exact number of bytes every reader yields.
	Size() int64
	// NewReader returns a reader positioned at the start of the body.
	NewReader() io.Reader
}

// ID names the document in logs and errors: its SourceID if it has one,
// else its messageId.
func (d *Document) ID() string {
	if d.SourceID != "" {
		return d.SourceID
	}
	if d.Message != nil {
		return d.Message.MessageID
	}
	return ""
}

// AddProblem records problems. Safe for concurrent use.
func (d *Document) AddProblem(p ...conneqt.Problem) {
	d.mu.Lock()
	d.problems = append(d.problems, p...)
	d.mu.Unlock()
}

// AddWarning records things the spec says "should" about. Warnings never stop
// a document. Safe for concurrent use.
func (d *Document) AddWarning(p ...conneqt.Problem) {
	d.mu.Lock()
	d.warnings = append(d.warnings, p...)
	d.mu.Unlock()
}

// AddChange records a change a stage made. Safe for concurrent use.
func (d *Document) AddChange(c ...Change) {
	d.mu.Lock()
	d.changes = append(d.changes, c...)
	d.mu.Unlock()
}

// Problems returns a copy of the problems recorded so far, sorted by path so
// that concurrent stages give a stable report.
func (d *Document) Problems() []conneqt.Problem {
	d.mu.Lock()
	defer d.mu.Unlock()
	return sortedProblems(d.problems)
}

// Warnings returns a copy of the warnings recorded so far, sorted by path.
func (d *Document) Warnings() []conneqt.Problem {
	d.mu.Lock()
	defer d.mu.Unlock()
	return sortedProblems(d.warnings)
}

// Changes returns a copy of the changes recorded so far, sorted by path
// (stable, so changes to one field keep the order they were made in).
func (d *Document) Changes() []Change {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := slices.Clone(d.changes)
	slices.SortStableFunc(c, func(a, b Change) int { return comparePaths(a.Name, b.Name) })
	return c
}

// Err returns a *ValidationError with every problem recorded, or nil.
func (d *Document) Err() error { return conneqt.NewValidationError(d.Problems()) }

// AttachmentsToCome is how many attachments the stages still to run will
// add to the message (see AttachmentAdder), as the Runner last computed it
// before the running message stage; 0 outside a Runner. A check of the
// attachment count counts len(Message.Attachments) + AttachmentsToCome().
func (d *Document) AttachmentsToCome() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.toCome
}

func (d *Document) setAttachmentsToCome(n int) {
	d.mu.Lock()
	d.toCome = n
	d.mu.Unlock()
}

func (d *Document) hasProblems() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.problems) > 0
}

func sortedProblems(ps []conneqt.Problem) []conneqt.Problem {
	c := slices.Clone(ps)
	slices.SortStableFunc(c, func(a, b conneqt.Problem) int { return comparePaths(a.Name, b.Name) })
	return c
}

// comparePaths orders JSON paths so that attachments[2] sorts before
// attachments[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, ra := leadingNumber(a)
			nb, rb := leadingNumber(b)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingNumber(s string) (int, string) {
	n, i := 0, 0
	for i < len(s) && isDigit(s[i]) && i < 9 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:]
}

// AttachmentOK reports whether no problem has been recorded for attachment i
// (at "attachments[i]" or any field below it). Attachment stages are not
// called for an attachment that is not OK; message stages that work per
// attachment should skip it too. Safe for concurrent use.
func (d *Document) AttachmentOK(i int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.problems {
		if j, ok := attachmentIndex(p.Name); ok && j == i {
			return false
		}
	}
	return true
}

// InsertAttachment inserts a at index i of the message's attachments and
// renumbers the paths of problems, warnings and changes already recorded for
// the attachments it moves, so that every report names the attachment's
// final position. It must not run concurrently with attachment stages of the
// same document (call it from a message stage).
func (d *Document) InsertAttachment(i int, a *conneqt.Attachment) {
	d.Message.Attachments = slices.Insert(d.Message.Attachments, i, a)
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.problems {
		d.problems[k].Name = shiftAttachmentPath(d.problems[k].Name, i)
	}
	for k := range d.warnings {
		d.warnings[k].Name = shiftAttachmentPath(d.warnings[k].Name, i)
	}
	for k := range d.changes {
		d.changes[k].Name = shiftAttachmentPath(d.changes[k].Name, i)
	}
}

const attachmentsPrefix = "attachments["

// attachmentIndex parses the index of an "attachments[N]..." path.
func attachmentIndex(path string) (int, bool) {
	if !strings.HasPrefix(path, attachmentsPrefix) {
		return 0, false
	}
	rest := path[len(attachmentsPrefix):]
	end := strings.IndexByte(rest, ']')
	if end <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil || n < 0 {
		return 0, false
	}
	if tail := rest[end+1:]; tail != "" && tail[0] != '.' {
		return 0, false
	}
	return n, true
}

// shiftAttachmentPath adds one to the index of an attachment path at or
// after from.
func shiftAttachmentPath(path string, from int) string {
	n, ok := attachmentIndex(path)
	if !ok || n < from {
		return path
	}
	rest := path[len(attachmentsPrefix):]
	return conneqt.AttachmentField(n+1, "") + rest[strings.IndexByte(rest, ']')+1:]
}
