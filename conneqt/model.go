package conneqt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Message is a conneQt message in the API's own JSON shape, covering all three
// routes: fields a route does not use stay empty and are omitted on the wire.
// Attachments are pointers so that stages can work on them in place.
type Message struct {
	MessageID      string          `json:"messageId"`
	Type           string          `json:"type"`
	Topic          string          `json:"topic"`
	Recipient      Party           `json:"recipient"`
	Subject        Party           `json:"subject"`
	ExpiryDateTime string          `json:"expiryDateTime,omitempty"`
	Body           *Body           `json:"body,omitempty"`
	Attachments    []*Attachment   `json:"attachments"`
	CodedDataItems []CodedDataItem `json:"codedDataItems,omitempty"`

	GPConnectAdditionalInformation *GPConnectInfo `json:"gpConnectAdditionalInformation,omitempty"`
}

// Party is a recipient or a subject: an identifier and its type.
type Party struct {
	ID Identifier `json:"id"`
}

// Identifier is an id object: {"value": "...", "type": "..."}.
type Identifier struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// Body is the free-text preview shown to the recipient. The instant page's
// example puts a fileName here; that is a mistake of the page and is never
// sent (docs/spec.md#wire-form).
type Body struct {
	MIMEType string `json:"mimeType"`
	Content  string `json:"content"`
}

// Attachment is one file. On the wire it is {fileName, mimeType, content}
// with content in standard padded Base64 (encoding/json's encoding of
// []byte). The other fields are gpdoc's own and never sent.
type Attachment struct {
	FileName string `json:"fileName"`
	MIMEType string `json:"mimeType"` // as declared by the sender (or fixed by a stage)
	Data     []byte `json:"content"`  // decoded bytes; nil until loaded

	// Path is where the bytes come from when Data is nil: the Runner loads it
	// before the first attachment stage (manifest "path", made absolute).
	Path string `json:"-"`
	// DetectedMIME is the type sniffed from the bytes by the validate stage.
	DetectedMIME string `json:"-"`
	// Generated marks an attachment gpdoc made itself (the rendered report).
	Generated bool `json:"-"`
}

// CodedDataItem is one SNOMED-coded item. The wire name is "units": one table
// in the spec says "unit", every example says "units" (docs/spec.md#wire-form).
type CodedDataItem struct {
	Code           string  `json:"code"`
	Value          *Number `json:"value,omitempty"`
	Units          string  `json:"units,omitempty"`
	AdditionalText string  `json:"additionalText,omitempty"`
}

// Number is a JSON number kept as its text, so that no precision is lost.
// It unmarshals from a number or from a string (the standard page's table
// types value as a string); a string that is not a number is kept as it is,
// marked invalid, for the validate stage to report.
type Number struct {
	Text  string
	Valid bool
}

// NewNumber returns a valid Number for f.
func NewNumber(f float64) *Number {
	return &Number{Text: strconv.FormatFloat(f, 'f', -1, 64), Valid: true}
}

// UnmarshalJSON accepts 140, 140.5 and "140".
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n.Text, n.Valid = s, isJSONNumber(s)
		return nil
	}
	if !isJSONNumber(string(b)) {
		return fmt.Errorf("value %s is not a number", b)
	}
	n.Text, n.Valid = string(b), true
	return nil
}

// MarshalJSON writes the number bare, or, if it is invalid, as a string.
func (n Number) MarshalJSON() ([]byte, error) {
	if n.Valid {
		return []byte(n.Text), nil
	}
	return json.Marshal(n.Text)
}

func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	var v json.Number
	return json.Unmarshal([]byte(s), &v) == nil
}

// GPConnectInfo is gpConnectAdditionalInformation, required on the GP Connect
// route and refused elsewhere.
type GPConnectInfo struct {
	RecipientType   string        `json:"recipientType"`
	SenderReference string        `json:"senderReference"`
	Confidentiality *bool         `json:"confidentiality"` // required: nil is reported, not defaulted
	RelatesTo       string        `json:"relatesTo,omitempty"`
	VersionNumber   int           `json:"versionNumber"`
	Patient         GPPatient     `json:"patient"`
	Practitioner    *Practitioner `json:"practitioner,omitempty"`
	Organisation    *Contact      `json:"organisation,omitempty"`
	TypeCode        string        `json:"typeCode"`
	TypeDescription string        `json:"typeDescription"`
}

// HumanName is a name object: family and (optionally) given.
type HumanName struct {
	Family string `json:"family"`
	Given  string `json:"given,omitempty"`
}

// GPPatient is the patient block of GP Connect information.
type GPPatient struct {
	Name        HumanName `json:"name"`
	DateOfBirth string    `json:"dateOfBirth"` // YYYY-MM-DD
}

// Practitioner is the author of a GP Connect summary. An empty SDSUserID is
// sent as "UNK" by the assemble stage (the service's own default).
type Practitioner struct {
	Name      HumanName `json:"name"`
	SDSUserID string    `json:"sdsUserId,omitempty"`
	Telephone string    `json:"telephone,omitempty"`
	Email     string    `json:"email,omitempty"`
}

// Contact is a telephone and email pair (the sending organisation).
type Contact struct {
	Telephone string `json:"telephone,omitempty"`
	Email     string `json:"email,omitempty"`
}
