package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// NewDocument makes a document built in code ready for a backfill, as the
// manifest reader makes a line ready: it looks the route up, fills the
// message's "type" from the route when it is empty, derives the messageId
// from sourceID when the message has none ([DeriveMessageID], so the same
// sourceId gets the same id in every run, from a manifest or from code), and
// completes the identifiers' types the route allows one value for. msg is
// used as it is, not copied. Attachments may give Data or Path (an absolute
// path, or one relative to the process's folder).
func NewDocument(route conneqt.RouteName, sourceID string, msg *conneqt.Message) (*pipeline.Document, error) {
	if msg == nil {
		return nil, errors.New("manifest: NewDocument: no message")
	}
	rt, err := conneqt.LookupRoute(string(route))
	if err != nil {
		return nil, fmt.Errorf("manifest: NewDocument: %w", err)
	}
	if msg.MessageID == "" {
		if sourceID == "" {
			return nil, errors.New("manifest: NewDocument: neither a messageId nor a sourceId is given: one is needed so that a re-run sends the same message id")
		}
		msg.MessageID = DeriveMessageID(sourceID)
	}
	if msg.Type == "" {
		msg.Type = rt.MessageType
	}
	doc := &pipeline.Document{SourceID: sourceID, Route: rt, Message: msg}
	fillIdentifiers(doc)
	return doc, nil
}

// hashedDocument is what DocumentHash hashes: everything of a document that
// a manifest line would hold.
type hashedDocument struct {
	Route        conneqt.RouteName `json:"route"`
	SourceID     string            `json:"sourceId"`
	Message      *conneqt.Message  `json:"message"`
	Paths        []string          `json:"paths"`
	Consultation json.RawMessage   `json:"consultation,omitempty"`
}

// DocumentHash is the content hash the ledger keeps for a document built in
// code, as [Line.Hash] is for a manifest line: the hex SHA-256 of a
// canonical JSON of the route, sourceId, message (attachment bytes
// included, Base64), attachment paths and consultation. Go's encoding of a
// struct has a fixed member order, so the same document always hashes the
// same. As for a manifest line, an attachment given by Path is hashed by its
// path, not by the file's bytes.
func DocumentHash(doc *pipeline.Document) (string, error) {
	h := hashedDocument{SourceID: doc.SourceID, Message: doc.Message}
	if doc.Route != nil {
		h.Route = doc.Route.Name
	}
	if len(doc.Consultation) > 0 {
		h.Consultation = doc.Consultation
	}
	if doc.Message != nil {
		for _, a := range doc.Message.Attachments {
			if a != nil {
				h.Paths = append(h.Paths, a.Path)
			}
		}
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("manifest: hashing document %s: %w", doc.ID(), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
