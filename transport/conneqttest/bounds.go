package conneqttest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// Defaults of the simulator's bounds (see Options).
const (
	DefaultMaxBodyBytes         = 80 << 20
	DefaultMaxBodyBytesInFlight = 128 << 20
	DefaultBodyWait             = 30 * time.Second
	DefaultMaxKeptBytes         = 64 << 20
	DefaultReadHeaderTimeout    = 10 * time.Second
	DefaultReadTimeout          = 2 * time.Minute
	DefaultIdleTimeout          = 2 * time.Minute
)

// AttachmentDigest is what the simulator always keeps of an accepted
// attachment, whether or not it keeps the bytes.
type AttachmentDigest struct {
	FileName string
	MIMEType string
	Size     int64  // decoded bytes
	SHA256   string // of the decoded bytes, hex
}

func (s *Server) applyBoundDefaults() {
	o := &s.opts
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxBodyBytesInFlight <= 0 {
		o.MaxBodyBytesInFlight = DefaultMaxBodyBytesInFlight
	}
	if o.BodyWait <= 0 {
		o.BodyWait = DefaultBodyWait
	}
	if o.MaxKeptBytes <= 0 {
		o.MaxKeptBytes = DefaultMaxKeptBytes
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
}

// HTTPServer returns an *http.Server serving s with the Options' read and
// idle timeouts, for serving s on an address of your own (as `gpdoc sim`
// does). A server from NewServer or NewUnstartedServer has them already.
func (s *Server) HTTPServer() *http.Server {
	hs := &http.Server{Handler: s}
	s.setTimeouts(hs)
	return hs
}

func (s *Server) setTimeouts(hs *http.Server) {
	hs.ReadHeaderTimeout = s.opts.ReadHeaderTimeout
	hs.ReadTimeout = s.opts.ReadTimeout
	hs.IdleTimeout = s.opts.IdleTimeout
}

// reserveBody waits (up to Options.BodyWait) until the request's body fits
// in the bytes in flight, and returns the release function. Otherwise it
// answers 413 (a body larger than MaxBodyBytes or than the whole budget) or
// 503 with Retry-After (no room in time) and returns nil.
func (s *Server) reserveBody(w http.ResponseWriter, r *http.Request) func() {
	n := r.ContentLength
	switch {
	case n > s.opts.MaxBodyBytes:
		s.overloaded(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes", s.opts.MaxBodyBytes))
		return nil
	case n > s.opts.MaxBodyBytesInFlight:
		s.overloaded(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than the %d bytes the simulator holds at once", s.opts.MaxBodyBytesInFlight))
		return nil
	case n < 0: // length unknown: reserve the most it may be
		n = min(s.opts.MaxBodyBytes, s.opts.MaxBodyBytesInFlight)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.BodyWait)
	defer cancel()
	if err := s.bodies.Acquire(ctx, n); err != nil {
		if r.Context().Err() == nil {
			s.overloaded(w, http.StatusServiceUnavailable, "Too many request bodies in progress; try again shortly")
		}
		return nil
	}
	s.count(func(st *Stats) { st.BodyBytesInFlight += n })
	return func() {
		s.count(func(st *Stats) { st.BodyBytesInFlight -= n })
		s.bodies.Release(n)
	}
}

func (s *Server) overloaded(w http.ResponseWriter, status int, detail string) {
	retry := ""
	typ := conneqt.ValidationProblemType
	if status == http.StatusServiceUnavailable {
		retry, typ = "1", UnavailableProblemType
	}
	writeProblem(w, problem(status, typ, http.StatusText(status), detail), retry)
	s.count(func(st *Stats) {
		st.Overloaded++
		st.ByStatus[fmt.Sprint(status)]++
	})
}

// readBody reads a body reserveBody admitted, into a buffer of its exact
// length when the length is known.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, max)
	if r.ContentLength < 0 {
		return io.ReadAll(rd)
	}
	buf := make([]byte, r.ContentLength)
	n, err := io.ReadFull(rd, buf)
	return buf[:n], err
}

// digests describes msg's attachments.
func digests(msg *conneqt.Message) []AttachmentDigest {
	out := make([]AttachmentDigest, 0, len(msg.Attachments))
	for _, a := range msg.Attachments {
		if a == nil {
			out = append(out, AttachmentDigest{})
			continue
		}
		sum := sha256.Sum256(a.Data)
		out = append(out, AttachmentDigest{FileName: a.FileName, MIMEType: a.MIMEType, Size: int64(len(a.Data)), SHA256: hex.EncodeToString(sum[:])})
	}
	return out
}

// keep decides whether an accepted message keeps its attachments' bytes:
// always with Options.KeepBodies, else while the bytes kept stay within
// Options.MaxKeptBytes. A message that is not kept loses its Data (its
// digests stay). s.mu is held.
func (s *Server) keep(msg *conneqt.Message, ds []AttachmentDigest) bool {
	var n int64
	for _, d := range ds {
		n += d.Size
	}
	if s.opts.KeepBodies || s.kept+n <= s.opts.MaxKeptBytes {
		s.kept += n
		return true
	}
	for _, a := range msg.Attachments {
		if a != nil {
			a.Data = nil
		}
	}
	return false
}
