// Package manifest reads gpdoc's input: a JSON Lines file with one message a
// line, written as the conneQt API's own message JSON with four additions:
//
//   - "route": "standard", "instant" or "gpconnect" (may be left out when
//     "type" names the route);
//   - "sourceId": the sending system's id for the document; when "messageId"
//     is left out it is derived from sourceId (a UUID v5), so a re-run of the
//     same line gets the same id;
//   - an attachment may give "path" (relative to the manifest's folder)
//     instead of "content" (Base64). The file must resolve, after following
//     symlinks, inside the manifest's folder or a folder given in
//     Options.AllowPaths, and be a regular file (the Runner checks, see
//     pipeline.Document.Folders);
//   - "consultation": structured consultation data for the render stage.
//
// The reader streams: a manifest of millions of lines is never held in
// memory. A malformed line is reported with its line number and the other
// lines still run. Malformed includes a key given twice in one object, at any
// depth and in any case ([ErrDuplicateKey]: encoding/json would keep the last
// silently), and a sourceId or messageId that is not valid UTF-8
// ([ErrInvalidUTF8]). A UTF-8 byte order mark at the start of the file is
// skipped; a null attachment is a problem at attachments[i].
package manifest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// MaxLineBytes is the longest manifest line read (10 attachments of 5 MB in
// Base64 fit with room to spare). Longer lines are an error for that line.
const MaxLineBytes = 128 << 20

// Namespace is the UUID v5 namespace messageIds are derived in.
var Namespace = uuid.MustParse("6f1c3f0e-8d5a-4b3e-9a57-0d6a7b1e2c44")

// DeriveMessageID returns the messageId gpdoc uses for a line with sourceID
// and no messageId of its own.
func DeriveMessageID(sourceID string) string {
	return uuid.NewSHA1(Namespace, []byte(sourceID)).String()
}

// ErrMalformed matches every *LineError.
var ErrMalformed = errors.New("malformed manifest line")

// LineError is a line that could not be read as a message.
type LineError struct {
	Line int
	Err  error
}

// Error names the line and its error.
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// Is matches ErrMalformed.
func (e *LineError) Is(target error) bool { return target == ErrMalformed }

// Line is one manifest line: either Doc or Err is set.
type Line struct {
	Number int
	// Hash is the SHA-256 of the line's bytes (hex): a changed line is a new
	// hash.
	Hash string
	Doc  *pipeline.Document
	Err  error // a *LineError, or an I/O error reading the manifest
}

// Options says where a manifest's attachment files are.
type Options struct {
	// Dir is the folder "path" values are relative to (usually the
	// manifest's own, "" for the working directory), and the one folder
	// attachment files may be read from unless AllowPaths adds more.
	Dir string
	// AllowPaths are more folders attachment files may be read from (the
	// CLI's --allow-path). A path must resolve, after following symlinks,
	// inside Dir or one of these (see pipeline.Document.Folders).
	AllowPaths []string
}

// folders is the Document.Folders of every line read with o.
func (o Options) folders() []string {
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	return append([]string{dir}, o.AllowPaths...)
}

// Read streams the lines of a manifest. baseDir is the folder "path" values
// are relative to (usually the manifest's own), and the only folder files
// are read from. Blank lines are skipped. An I/O error ends the sequence
// with a Line whose Err is that error.
func Read(ctx context.Context, r io.Reader, baseDir string) iter.Seq[Line] {
	return ReadWith(ctx, r, Options{Dir: baseDir})
}

// ReadWith is Read with Options: files may also come from opts.AllowPaths.
func ReadWith(ctx context.Context, r io.Reader, opts Options) iter.Seq[Line] {
	return func(yield func(Line) bool) {
		br := bufio.NewReaderSize(r, 1<<20)
		for n := 1; ; n++ {
			if ctx.Err() != nil {
				return
			}
			raw, tooLong, err := readLine(br)
			if n == 1 {
				raw = bytes.TrimPrefix(raw, bom)
			}
			if len(bytes.TrimSpace(raw)) > 0 || tooLong {
				var l Line
				if tooLong {
					l = Line{Number: n, Err: &LineError{Line: n, Err: fmt.Errorf("longer than %d bytes", MaxLineBytes)}}
				} else {
					l = ParseLineWith(raw, n, opts)
				}
				if !yield(l) {
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Line{Number: n, Err: fmt.Errorf("reading manifest: %w", err)})
				return
			}
		}
	}
}

// readLine reads up to and excluding '\n'. A line over MaxLineBytes is
// skipped to its end and reported as tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxLineBytes {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		return line, tooLong, err
	}
}

// ParseLine reads one manifest line. Problems that belong to a field (bad
// Base64, an attachment with both content and path) are recorded on the
// Document so validation reports them with everything else; only JSON that
// cannot be read at all is a *LineError.
func ParseLine(raw []byte, number int, baseDir string) Line {
	return ParseLineWith(raw, number, Options{Dir: baseDir})
}

// ParseLineWith is ParseLine with Options.
func ParseLineWith(raw []byte, number int, opts Options) Line {
	if number <= 1 {
		raw = bytes.TrimPrefix(raw, bom) // a byte order mark starts the file, not the JSON
	}
	sum := sha256.Sum256(raw)
	l := Line{Number: number, Hash: hex.EncodeToString(sum[:])}
	doc, err := parse(raw, opts.Dir)
	if err != nil {
		l.Err = &LineError{Line: number, Err: err}
		return l
	}
	doc.Line = number
	doc.Folders = opts.folders()
	l.Doc = doc
	return l
}

type inputLine struct {
	Route        string          `json:"route"`
	SourceID     string          `json:"sourceId"`
	Consultation json.RawMessage `json:"consultation"`

	MessageID      string             `json:"messageId"`
	Type           string             `json:"type"`
	Topic          string             `json:"topic"`
	Recipient      conneqt.Party      `json:"recipient"`
	Subject        conneqt.Party      `json:"subject"`
	ExpiryDateTime string             `json:"expiryDateTime"`
	Body           *inputBody         `json:"body"`
	Attachments    []*inputAttachment `json:"attachments"`
	CodedDataItems []inputCodedItem   `json:"codedDataItems"`

	GPConnectAdditionalInformation *conneqt.GPConnectInfo `json:"gpConnectAdditionalInformation"`
}

type inputBody struct {
	MIMEType string `json:"mimeType"`
	Content  string `json:"content"`
	FileName string `json:"fileName"` // the instant page's mistake: accepted, never sent
}

type inputAttachment struct {
	FileName string  `json:"fileName"`
	MIMEType string  `json:"mimeType"`
	Content  *string `json:"content"`
	Path     string  `json:"path"`
}

type inputCodedItem struct {
	conneqt.CodedDataItem
	Unit string `json:"unit"` // the instant table's spelling: accepted as units
}

func parse(raw []byte, baseDir string) (*pipeline.Document, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in inputLine
	if err := dec.Decode(&in); err != nil {
		return nil, describeJSONError(err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line")
	}
	if err := checkShape(raw); err != nil {
		return nil, err
	}
	var problems []conneqt.Problem
	route, err := PickRoute(in.Route, in.Type)
	if err != nil {
		return nil, err
	}
	msg := &conneqt.Message{
		MessageID:                      in.MessageID,
		Type:                           in.Type,
		Topic:                          in.Topic,
		Recipient:                      in.Recipient,
		Subject:                        in.Subject,
		ExpiryDateTime:                 in.ExpiryDateTime,
		GPConnectAdditionalInformation: in.GPConnectAdditionalInformation,
	}
	if msg.Type == "" {
		msg.Type = route.MessageType
	}
	if msg.MessageID == "" {
		if in.SourceID == "" {
			return nil, errors.New(`neither "messageId" nor "sourceId" is given: one is needed so that a re-run sends the same message id`)
		}
		msg.MessageID = DeriveMessageID(in.SourceID)
	}
	doc := &pipeline.Document{SourceID: in.SourceID, Route: route, Message: msg, Consultation: in.Consultation}
	fillIdentifiers(doc)
	if in.Body != nil {
		msg.Body = &conneqt.Body{MIMEType: in.Body.MIMEType, Content: in.Body.Content}
		if in.Body.FileName != "" {
			doc.AddWarning(conneqt.Problem{Name: "body.fileName", Reason: "the body has no file name in the API; it is not sent", Value: in.Body.FileName})
		}
	}
	for i, a := range in.Attachments {
		if a == nil {
			problems = append(problems, conneqt.Problem{Name: conneqt.AttachmentField(i, ""),
				Reason: `must be an attachment object ({"fileName":…,"mimeType":…,"content" or "path":…}), not null`})
			msg.Attachments = append(msg.Attachments, &conneqt.Attachment{Data: []byte{}})
			continue
		}
		att := &conneqt.Attachment{FileName: a.FileName, MIMEType: a.MIMEType}
		switch {
		case a.Content != nil && a.Path != "":
			problems = append(problems, conneqt.Problem{Name: conneqt.AttachmentField(i, "content"), Reason: `give either "content" or "path", not both`})
		case a.Content != nil:
			data, err := base64.StdEncoding.Strict().DecodeString(*a.Content)
			if err != nil {
				problems = append(problems, conneqt.Problem{Name: conneqt.AttachmentField(i, "content"),
					Reason: fmt.Sprintf("not standard padded Base64 (RFC 4648): %v", err)})
			}
			att.Data = data
			if att.Data == nil {
				att.Data = []byte{}
			}
		case a.Path != "":
			p := a.Path
			if !filepath.IsAbs(p) {
				p = filepath.Join(baseDir, filepath.FromSlash(p))
			}
			att.Path = p
		default:
			problems = append(problems, conneqt.Problem{Name: conneqt.AttachmentField(i, "content"), Reason: `required: give "content" (Base64) or "path" (a file relative to the manifest)`})
			att.Data = []byte{}
		}
		msg.Attachments = append(msg.Attachments, att)
	}
	for i, c := range in.CodedDataItems {
		item := c.CodedDataItem
		if item.Units == "" && c.Unit != "" {
			item.Units = c.Unit
		} else if item.Units != "" && c.Unit != "" && item.Units != c.Unit {
			problems = append(problems, conneqt.Problem{Name: conneqt.IndexField("codedDataItems", i, "units"),
				Reason: `both "units" and "unit" are given and differ; give "units" only`})
		}
		msg.CodedDataItems = append(msg.CodedDataItems, item)
	}
	doc.AddProblem(problems...)
	return doc, nil
}

// PickRoute returns the route a line names: by its "route", else by its
// "type" (the wire message type).
func PickRoute(name, messageType string) (*conneqt.Route, error) {
	switch {
	case name != "":
		return conneqt.LookupRoute(name)
	case messageType != "":
		return conneqt.RouteForType(messageType)
	}
	return nil, errors.New(`no "route" (standard, instant or gpconnect) and no "type" to tell it from`)
}

func describeJSONError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field") {
		return fmt.Errorf("%s (not an API field, nor route, sourceId, consultation or attachments[].path)", strings.TrimPrefix(err.Error(), "json: "))
	}
	if err == io.EOF {
		return errors.New("empty line")
	}
	return err
}
