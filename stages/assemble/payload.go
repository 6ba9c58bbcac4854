package assemble

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/b64"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Payload is an assembled message body that streams: the envelope JSON is
// held, each attachment's content is encoded to Base64 as the body is read.
// It implements pipeline.Payload and io.WriterTo. A Payload is immutable and
// safe for concurrent use (each reader has its own position); it refers to
// the attachments' bytes, which must not change while it is in use.
type Payload struct {
	// segs alternates JSON pieces (even indexes, all slices of one buffer)
	// and the attachments' decoded bytes (odd indexes): 2n+1 segments for n
	// attachments.
	segs [][]byte
	size int64

	digestOnce sync.Once
	attDigests [][32]byte // SHA-256 of each attachment's decoded bytes
	digest     [32]byte
}

var (
	_ pipeline.Payload = (*Payload)(nil)
	_ io.WriterTo      = (*Payload)(nil)
)

// Marker bytes: what json gives for a nil attachment list and a nil []byte.
// Each can only occur in the encoder's output as the key and value it is: a
// quote inside a JSON string is always escaped.
var (
	attachmentsNull = []byte(`"attachments":null`)
	contentNull     = []byte(`"content":null`)
)

// scratch is a pooled buffer with a json.Encoder writing to it. json.Encoder
// escapes <, > and & like json.Marshal (SetEscapeHTML defaults to true).
type scratch struct {
	buf  bytes.Buffer
	enc  *json.Encoder
	env  conneqt.Message    // the wire message without its attachments
	meta conneqt.Attachment // one attachment without its content
}

var scratchPool = sync.Pool{New: func() any {
	s := new(scratch)
	s.enc = json.NewEncoder(&s.buf)
	return s
}}

// encode appends the JSON of v, without the Encoder's newline, and returns
// its offsets in s.buf.
func (s *scratch) encode(v any) (start, end int, err error) {
	start = s.buf.Len()
	if err := s.enc.Encode(v); err != nil {
		return 0, 0, err
	}
	return start, s.buf.Len() - 1, nil
}

// New assembles the wire body of m on route r (see Wire). It encodes nothing:
// it marshals the envelope and computes the exact size.
func New(r *conneqt.Route, m *conneqt.Message) (*Payload, error) {
	s := scratchPool.Get().(*scratch)
	defer func() {
		s.env, s.meta = conneqt.Message{}, conneqt.Attachment{} // keep no message alive
		if s.buf.Cap() <= 64<<10 {                              // nor a huge buffer
			s.buf.Reset()
			scratchPool.Put(s)
		}
	}()
	if err := wire(r, m, &s.env); err != nil {
		return nil, err
	}
	return s.payload()
}

// payload builds the payload of s.env, a message in wire form.
func (s *scratch) payload() (*Payload, error) {
	atts := s.env.Attachments
	s.env.Attachments = nil
	s.buf.Reset()

	start, end, err := s.encode(&s.env)
	if err != nil {
		return nil, fmt.Errorf("assemble: marshalling the envelope: %w", err)
	}
	envJSON := s.buf.Bytes()[start:end]
	at := bytes.Index(envJSON, attachmentsNull)
	if at < 0 {
		return nil, errors.New("assemble: the envelope has no attachments field")
	}
	headEnd := start + at + len(attachmentsNull) - len("null")
	tailStart := start + at + len(attachmentsNull)

	// Offsets in s.buf of each attachment's JSON around its content. The
	// attachments are encoded back to back after the envelope, each followed
	// by the Encoder's '\n', so each starts one byte after the previous end.
	type span struct{ headEnd, tailStart, end int }
	var spansArr [16]span
	spans := spansArr[:0]
	for i, a := range atts {
		s.meta = *a
		s.meta.Data = nil
		as, ae, err := s.encode(&s.meta)
		if err != nil {
			return nil, fmt.Errorf("assemble: marshalling %s: %w", conneqt.AttachmentField(i, ""), err)
		}
		c := bytes.Index(s.buf.Bytes()[as:ae], contentNull)
		if c < 0 {
			return nil, fmt.Errorf("assemble: %s has no content field", conneqt.AttachmentField(i, ""))
		}
		spans = append(spans, span{
			headEnd:   as + c + len(contentNull) - len("null"),
			tailStart: as + c + len(contentNull),
			end:       ae,
		})
	}

	// Lay the literal pieces out in one exact-size buffer.
	b := s.buf.Bytes()
	n := len(atts)
	litLen := (headEnd - start) + 1 + (end - tailStart) + 1 // head "[" ... "]" tail
	attStart := end + 1
	for i, sp := range spans {
		litLen += (sp.headEnd - attStart) + 1 + 1 + (sp.end - sp.tailStart) // head `"` `"` tail
		if i > 0 {
			litLen++ // ","
		}
		attStart = sp.end + 1
	}
	lits := make([]byte, 0, litLen)
	segs := make([][]byte, 2*n+1)
	mark := 0
	lits = append(lits, b[start:headEnd]...)
	lits = append(lits, '[')
	attStart = end + 1
	for i, sp := range spans {
		if i > 0 {
			lits = append(lits, ',')
		}
		lits = append(lits, b[attStart:sp.headEnd]...)
		lits = append(lits, '"')
		segs[2*i] = lits[mark:len(lits):len(lits)]
		mark = len(lits)
		lits = append(lits, '"')
		lits = append(lits, b[sp.tailStart:sp.end]...)
		segs[2*i+1] = atts[i].Data
		attStart = sp.end + 1
	}
	lits = append(lits, ']')
	lits = append(lits, b[tailStart:end]...)
	segs[2*n] = lits[mark:len(lits):len(lits)]

	size := int64(len(lits))
	for _, a := range atts {
		size += b64.EncodedLen(int64(len(a.Data)))
	}
	return &Payload{segs: segs, size: size}, nil
}

// Size is the exact length of the body in bytes.
func (p *Payload) Size() int64 { return p.size }

// AttachmentDigests returns the SHA-256 of each attachment's decoded bytes,
// in order: what the service's content checks see, and what a ledger
// remembers of an attachment it refused. They are computed once per
// Payload.
func (p *Payload) AttachmentDigests() [][32]byte {
	p.digests()
	return p.attDigests
}

// Digest identifies the body's bytes without producing them: the SHA-256
// of its JSON pieces and, in their places, each attachment's SHA-256 (the
// Base64 in the body is a pure function of the decoded bytes), every part
// framed by its length. Two Payloads have the same Digest exactly when
// they have the same body (up to SHA-256 collisions). It costs one pass
// over the decoded bytes, shared with AttachmentDigests, instead of one
// over the Base64 text (a third larger, and encoded again).
func (p *Payload) Digest() [32]byte {
	p.digests()
	return p.digest
}

func (p *Payload) digests() {
	p.digestOnce.Do(func() {
		h := sha256.New()
		var n [8]byte
		p.attDigests = make([][32]byte, 0, len(p.segs)/2)
		for i, seg := range p.segs {
			part := seg
			if i%2 == 1 {
				d := sha256.Sum256(seg)
				p.attDigests = append(p.attDigests, d)
				part = d[:]
			}
			binary.BigEndian.PutUint64(n[:], uint64(len(part))<<1|uint64(i%2))
			h.Write(n[:])
			h.Write(part)
		}
		h.Sum(p.digest[:0])
	})
}

// NewReader returns a reader of the whole body from its start. Each reader
// encodes independently; call NewReader once per send attempt. The reader
// also implements io.WriterTo, so io.Copy streams it through pooled buffers.
func (p *Payload) NewReader() io.Reader {
	r := &Reader{}
	r.reset(p)
	return r
}

// WriteTo writes the whole body to w. It implements io.WriterTo.
func (p *Payload) WriteTo(w io.Writer) (int64, error) {
	var r Reader
	r.reset(p)
	return r.WriteTo(w)
}

// Reader reads a Payload's body: see Payload.NewReader.
type Reader struct {
	p   *Payload
	seg int        // index in p.segs: even a JSON piece, odd an attachment
	lit []byte     // rest of the current literal
	enc b64.Reader // the current attachment's encoding
}

func (r *Reader) reset(p *Payload) {
	*r = Reader{p: p}
	if len(p.segs) > 0 { // the zero Payload is an empty body
		r.lit = p.segs[0]
	}
}

// next moves to the next segment and reports whether there is one.
func (r *Reader) next() bool {
	r.seg++
	if r.seg >= len(r.p.segs) {
		return false
	}
	if r.seg%2 == 0 {
		r.lit = r.p.segs[r.seg]
	} else {
		r.enc.Reset(r.p.segs[r.seg])
	}
	return true
}

func (r *Reader) done() bool { return r.p == nil || r.seg >= len(r.p.segs) }

// Read reads the next part of the body into p, filling it where it can.
func (r *Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && !r.done() {
		if r.seg%2 == 0 {
			k := copy(p[n:], r.lit)
			r.lit = r.lit[k:]
			n += k
			if len(r.lit) == 0 {
				r.next()
			}
			continue
		}
		k, err := r.enc.Read(p[n:])
		n += k
		if err == io.EOF {
			r.next()
		}
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// WriteTo writes the rest of the body to w. It implements io.WriterTo.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for !r.done() {
		if r.seg%2 == 0 {
			m, err := w.Write(r.lit)
			total += int64(m)
			if err == nil && m != len(r.lit) {
				err = io.ErrShortWrite
			}
			r.lit = r.lit[m:]
			if err != nil {
				return total, err
			}
		} else {
			m, err := r.enc.WriteTo(w)
			total += m
			if err != nil {
				return total, err
			}
		}
		r.next()
	}
	return total, nil
}
