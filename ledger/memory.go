package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	_ BatchClaimer   = (*Memory)(nil)
	_ Lister         = (*Memory)(nil)
	_ FleetStater    = (*Memory)(nil)
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
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return m.claimLocked(it, opts), nil
}

// ClaimBatch implements [BatchClaimer]: the batch is claimed under one lock.
func (m *Memory) ClaimBatch(_ context.Context, items []Item, opts ClaimOptions) ([]Decision, error) {
	for i, it := range items {
		if it.MessageID == "" {
			return nil, fmt.Errorf("ledger: claim without a messageId (batch item %d, line %d)", i, it.Line)
		}
	}
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	ds := make([]Decision, len(items))
	for i, it := range items {
		ds[i] = m.claimLocked(it, opts)
	}
	return ds, nil
}

// claimLocked claims it with m.store.mu held.
func (m *Memory) claimLocked(it Item, opts ClaimOptions) Decision {
	s := m.store
	var prev *Entry
	if e := s.entries[it.MessageID]; e != nil {
		c := clone(*e)
		prev = &c
	}
	d := Decide(prev, it, m.runID, opts)
	if d.Action != Process {
		return d
	}
	now := time.Now().UTC()
	e := s.entries[it.MessageID]
	if e == nil {
		e = &Entry{MessageID: it.MessageID, Created: now}
		s.entries[it.MessageID] = e
	}
	e.SourceID, e.Line, e.Hash, e.State, e.RunID, e.Updated = it.SourceID, it.Line, it.Hash, StateAfterClaim(prev), m.runID, now
	if e.State == Pending {
		e.PayloadSHA256 = ""
	}
	d.FirstClaimed = e.Created
	return d
}

// MarkSending implements [Ledger].
func (m *Memory) MarkSending(_ context.Context, messageID, payloadSHA256 string) (int, error) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[messageID]
	if e == nil || e.RunID != m.runID {
		return 0, fmt.Errorf("%w: %s", ErrNotClaimed, messageID)
	}
	if err := CheckPayload(messageID, e.PayloadSHA256, payloadSHA256); err != nil {
		return 0, err
	}
	e.State, e.Updated, e.PayloadSHA256 = Sending, time.Now().UTC(), payloadSHA256
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

// FleetStats implements [FleetStater]. Each run is a worker; a message
// counts as finished in the last minute when its entry is in an outcome
// state (not pending or sending) and was updated in that minute.
func (m *Memory) FleetStats(context.Context) (Fleet, error) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	f := Fleet{At: time.Now().UTC()}
	by := map[string]*WorkerStats{}
	for _, e := range s.entries {
		w := by[e.RunID]
		if w == nil {
			w = &WorkerStats{Worker: e.RunID, States: Stats{}}
			by[e.RunID] = w
		}
		w.States[e.State]++
		if e.State != Pending && e.State != Sending && f.At.Sub(e.Updated) < time.Minute {
			w.FinishedLastMinute++
			if e.State == Sent {
				w.SentLastMinute++
			}
		}
	}
	for _, w := range by {
		f.Workers = append(f.Workers, *w)
		f.SentLastMinute += w.SentLastMinute
		f.FinishedLastMinute += w.FinishedLastMinute
	}
	slices.SortFunc(f.Workers, func(a, b WorkerStats) int { return strings.Compare(a.Worker, b.Worker) })
	return f, nil
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
