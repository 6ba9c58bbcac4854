package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is a [Ledger] held in memory: nothing survives the process. It is
// for tests and examples, and is the reference the other implementations
// are checked against (package ledgertest). Each handle is one run;
// [Memory.NewRun] starts another run over the same entries, as reopening a
// ledger file does.
type Memory struct {
	store *memStore
	runID string
}

type memStore struct {
	mu      sync.Mutex
	entries map[string]*Entry
	blocked map[string]string // sha256 -> messageId
	runs    int

	// status is kept by memory_list.go; nil until the first poll.
	status map[string]*StatusRecord
}

var (
	_ Ledger         = (*Memory)(nil)
	_ ContentBlocker = (*Memory)(nil)
)

// NewMemory returns an empty in-memory ledger and its first run.
func NewMemory() *Memory {
	return (&Memory{store: &memStore{entries: map[string]*Entry{}, blocked: map[string]string{}}}).NewRun()
}

// NewRun returns a handle for a new run over the same entries.
func (m *Memory) NewRun() *Memory {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.store.runs++
	return &Memory{store: m.store, runID: fmt.Sprintf("memory-run-%d", m.store.runs)}
}

// Claim implements [Ledger].
func (m *Memory) Claim(_ context.Context, it Item, opts ClaimOptions) (Decision, error) {
	if it.MessageID == "" {
		return Decision{}, fmt.Errorf("ledger: claim without a messageId")
	}
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	var prev *Entry
	if e := s.entries[it.MessageID]; e != nil {
		c := clone(*e)
		prev = &c
	}
	d := Decide(prev, it, m.runID, opts)
	if d.Action != Process {
		return d, nil
	}
	now := time.Now().UTC()
	e := s.entries[it.MessageID]
	if e == nil {
		e = &Entry{MessageID: it.MessageID, Created: now}
		s.entries[it.MessageID] = e
	}
	e.SourceID, e.Line, e.Hash, e.State, e.RunID, e.Updated = it.SourceID, it.Line, it.Hash, StateAfterClaim(prev), m.runID, now
	return d, nil
}

// MarkSending implements [Ledger].
func (m *Memory) MarkSending(_ context.Context, messageID string) (int, error) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[messageID]
	if e == nil || e.RunID != m.runID {
		return 0, fmt.Errorf("%w: %s", ErrNotClaimed, messageID)
	}
	e.State, e.Updated = Sending, time.Now().UTC()
	e.Attempts++
	return e.Attempts, nil
}

// Finish implements [Ledger]. A message that is already sent stays sent.
func (m *Memory) Finish(_ context.Context, messageID string, o Outcome) error {
	if !o.State.Valid() {
		return fmt.Errorf("ledger: finish %s: unknown state %q", messageID, o.State)
	}
	if len(o.Problem) > 0 && !json.Valid(o.Problem) {
		return fmt.Errorf("ledger: finish %s: problem is not JSON", messageID)
	}
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[messageID]
	if e == nil || e.RunID != m.runID {
		return fmt.Errorf("%w: %s", ErrNotClaimed, messageID)
	}
	if e.State == Sent {
		return nil
	}
	e.State, e.Problem, e.Updated = o.State, slices.Clone(o.Problem), time.Now().UTC()
	if o.StatusEndpoint != "" {
		e.StatusEndpoint = o.StatusEndpoint
	}
	return nil
}

// Get implements [Ledger].
func (m *Memory) Get(_ context.Context, messageID string) (Entry, error) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[messageID]
	if e == nil {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, messageID)
	}
	return clone(*e), nil
}

// Stats implements [Ledger].
func (m *Memory) Stats(context.Context) (Stats, error) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{}
	for _, e := range s.entries {
		st[e.State]++
	}
	return st, nil
}

// BlockContent implements [ContentBlocker].
func (m *Memory) BlockContent(_ context.Context, messageID string, sha256s []string) error {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	for _, h := range sha256s {
		if _, ok := m.store.blocked[h]; !ok {
			m.store.blocked[h] = messageID
		}
	}
	return nil
}

// BlockedContent implements [ContentBlocker].
func (m *Memory) BlockedContent(_ context.Context, sha256s []string) ([]string, error) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	var out []string
	for _, h := range sha256s {
		if _, ok := m.store.blocked[h]; ok {
			out = append(out, h)
		}
	}
	return out, nil
}

// Close implements [Ledger]; it does nothing.
func (m *Memory) Close() error { return nil }

func clone(e Entry) Entry {
	e.Problem = slices.Clone(e.Problem)
	return e
}
