package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

var (
	_ Lister      = (*Memory)(nil)
	_ StatusStore = (*Memory)(nil)
)

// List implements [Lister]. It lists a snapshot taken when it is called.
func (m *Memory) List(ctx context.Context, fn func(Entry) error) error {
	s := m.store
	s.mu.Lock()
	all := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		all = append(all, clone(*e))
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.MessageID, b.MessageID))
	})
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Status implements [StatusStore].
func (m *Memory) Status(_ context.Context, messageID string) (StatusRecord, error) {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.status[messageID]
	if r == nil {
		return StatusRecord{}, nil
	}
	c := *r
	c.Polls = slices.Clone(r.Polls)
	return c, nil
}

// RecordPoll implements [StatusStore].
func (m *Memory) RecordPoll(_ context.Context, messageID string, at time.Time, st *StatusRecord) error {
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[messageID] == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, messageID)
	}
	if s.status == nil {
		s.status = map[string]*StatusRecord{}
	}
	r := s.status[messageID]
	if r == nil {
		r = &StatusRecord{}
		s.status[messageID] = r
	}
	r.Polls = recentPolls(r.Polls, at)
	if st != nil {
		r.Status, r.SubStatus, r.Reason, r.Checked = st.Status, st.SubStatus, st.Reason, at.UTC()
	}
	return nil
}
