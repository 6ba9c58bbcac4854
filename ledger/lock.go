package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrLocked matches a [*LockedError]: another run holds the ledger.
var ErrLocked = errors.New("ledger: another run holds the ledger")

// Holder names the run that holds a ledger: it is written into the lock so
// that a refused run can say who holds it.
type Holder struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	RunID   string    `json:"runId,omitempty"`
}

// NewHolder describes this process, for a run called runID.
func NewHolder(runID string) Holder {
	host, _ := os.Hostname()
	return Holder{Host: host, PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second), RunID: runID}
}

// String reads "process 1234 on host h (run r) since 2026-12-01T17:00:00Z".
func (h Holder) String() string {
	if h.PID == 0 && h.Host == "" {
		return "another process (not yet identified)"
	}
	var b strings.Builder
	b.WriteString("process " + strconv.Itoa(h.PID))
	if h.Host != "" {
		b.WriteString(" on host " + h.Host)
	}
	if h.RunID != "" {
		b.WriteString(" (run " + h.RunID + ")")
	}
	if !h.Started.IsZero() {
		b.WriteString(" since " + h.Started.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// LockedError is a run refused because another run holds the ledger.
type LockedError struct {
	// Resource is what is locked: the lock file, or a shared ledger's name.
	Resource string
	Holder   Holder
}

// Error names the holder.
func (e *LockedError) Error() string {
	return fmt.Sprintf("ledger %s is in use by %s; one run at a time: wait for it to finish (or stop it), then run again", e.Resource, e.Holder)
}

// Is matches [ErrLocked].
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// RunLock is a run's exclusive hold on a ledger, taken when the ledger is
// opened for a run and kept until Release. A file ledger implements it with
// an operating-system lock ([LockFile]); a shared ledger can implement it as
// a lease that the holder renews.
type RunLock interface {
	// Holder is the run that holds the lock.
	Holder() Holder
	// Release gives the lock up. Releasing twice is harmless.
	Release() error
}

// FileLock is a [RunLock] on a lock file: an exclusive advisory lock
// (flock on Unix, LockFileEx on Windows) that the operating system
// releases when the process ends, however it ends. The file holds the
// holder as JSON; it is left in place when the lock is released.
type FileLock struct {
	f      *os.File
	holder Holder
	once   sync.Once
	err    error
}

var _ RunLock = (*FileLock)(nil)

// LockFile takes the lock at path (creating the file) for h, without
// waiting: if another run holds it, the error is a [*LockedError] naming
// the holder recorded in the file.
func LockFile(path string, h Holder) (*FileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: lock %s: %w", path, err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: lock %s: %w", path, err)
	}
	if !ok {
		f.Close()
		return nil, &LockedError{Resource: path, Holder: readHolder(path)}
	}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("ledger: lock %s: recording the holder: %w", path, err)
	}
	return &FileLock{f: f, holder: h}, nil
}

// holderWait is how long a refused run waits for the holder's record: the
// holder writes it just after it takes the lock, so a run refused in
// between would otherwise name nobody.
const holderWait = time.Second

// readHolder reads the holder recorded in the lock file at path, waiting up
// to holderWait for a holder that has just taken the lock to write it. An
// empty or half-written record names nobody.
func readHolder(path string) Holder {
	deadline := time.Now().Add(holderWait)
	for {
		var h Holder
		if b, err := os.ReadFile(path); err == nil {
			json.Unmarshal(b, &h)
		}
		if h.PID != 0 || h.Host != "" || time.Now().After(deadline) {
			return h
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Holder implements [RunLock].
func (l *FileLock) Holder() Holder { return l.holder }

// Release implements [RunLock]: it empties the holder record and unlocks.
func (l *FileLock) Release() error {
	l.once.Do(func() {
		l.f.Truncate(0)
		l.err = errors.Join(unlock(l.f), l.f.Close())
	})
	return l.err
}
