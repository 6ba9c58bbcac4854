package conneqttest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gpdoc/gpdoc/conneqt"
)

// ErrUnknownMessage is returned by the status methods for a messageId the
// server has not stored.
var ErrUnknownMessage = errors.New("conneqttest: no such message")

// ErrTransition is returned for a status change the message's state does
// not allow.
var ErrTransition = errors.New("conneqttest: status change not allowed")

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if !s.authorise(w, r) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	rec, ok := s.messages[id]
	if ok && statusPath(rec.route) != r.Pattern[len("GET "):] {
		ok = false // a GP Connect message under /messages, or the reverse
	}
	var st MessageStatus
	if ok {
		s.advance(rec)
		st = rec.status
	}
	s.mu.Unlock()
	if !ok {
		writeProblem(w, problem(http.StatusNotFound, conneqt.ValidationProblemType, "Not Found", "No message "+id+" on this endpoint"), "")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// advance applies the passage of time to rec; s.mu is held.
func (s *Server) advance(rec *record) {
	now := s.opts.Now()
	st := &rec.status
	set := func(state, sub string) {
		st.Status, st.SubStatus, st.LastUpdated = state, sub, now
	}
	switch st.Status {
	case StateCompleted, StateRejected, StateExpired:
		return
	}
	age := now.Sub(rec.acc.Received)
	if rec.route.Name == conneqt.Instant && st.Type == rec.route.MessageType && st.Status == StatePending && age >= s.opts.InstantFallback {
		st.Type = conneqt.MustRoute(conneqt.Standard).MessageType
		set(StatePending, SubStatusInstantExpired)
	}
	if s.opts.DeliverAfter > 0 && st.Status == StatePending && age >= s.opts.DeliverAfter {
		set(StateDelivered, "")
	}
	if s.opts.CompleteAfter > 0 && st.Status == StateDelivered && age >= s.opts.DeliverAfter+s.opts.CompleteAfter {
		set(StateCompleted, SubStatusImported)
	}
	if st.Status != StateCompleted && !rec.expiry.IsZero() && now.After(rec.expiry) {
		set(StateExpired, "")
	}
}

// Status returns a message's current status.
func (s *Server) Status(id string) (MessageStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.messages[id]
	if !ok {
		return MessageStatus{}, fmt.Errorf("%w: %s", ErrUnknownMessage, id)
	}
	s.advance(rec)
	return rec.status, nil
}

// transition changes a message's status if its current state is one of from.
func (s *Server) transition(id string, from []string, fn func(rec *record)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.messages[id]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownMessage, id)
	}
	s.advance(rec)
	for _, f := range from {
		if rec.status.Status == f {
			fn(rec)
			rec.status.LastUpdated = s.opts.Now()
			return nil
		}
	}
	return fmt.Errorf("%w: %s is %s", ErrTransition, id, rec.status.Status)
}

// Deliver marks a PENDING message DELIVERED (the toolbar fetched it).
func (s *Server) Deliver(id string) error {
	return s.transition(id, []string{StatePending}, func(r *record) { r.status.Status, r.status.SubStatus = StateDelivered, "" })
}

// Complete marks a PENDING or DELIVERED message COMPLETED (imported into
// the record).
func (s *Server) Complete(id string) error {
	return s.transition(id, []string{StatePending, StateDelivered}, func(r *record) {
		r.status.Status, r.status.SubStatus = StateCompleted, SubStatusImported
	})
}

// Reject marks a PENDING or DELIVERED message REJECTED by the recipient.
func (s *Server) Reject(id, reason string) error {
	return s.transition(id, []string{StatePending, StateDelivered}, func(r *record) {
		r.status.Status, r.status.SubStatus, r.status.Reason = StateRejected, SubStatusRejectedByClient, reason
	})
}

// FailInstantImport makes an instant message fail its automatic import: it
// becomes a standard message, PENDING, with sub-status "Failed instant
// message import". It is an ErrTransition for a message not sent as instant.
func (s *Server) FailInstantImport(id string) error {
	s.mu.Lock()
	rec, ok := s.messages[id]
	instant := ok && rec.route.Name == conneqt.Instant
	s.mu.Unlock()
	if ok && !instant {
		return fmt.Errorf("%w: %s was not sent as an instant message", ErrTransition, id)
	}
	return s.transition(id, []string{StatePending, StateDelivered}, func(r *record) {
		r.status.Type = conneqt.MustRoute(conneqt.Standard).MessageType
		r.status.Status, r.status.SubStatus = StatePending, SubStatusFailedImport
	})
}
