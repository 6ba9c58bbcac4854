package assemble

import (
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
)

// DefaultSDSUserID is sent as practitioner.sdsUserId when a GP Connect
// practitioner has none: the service's own default
// (docs/spec.md#gp-connect-additional-information).
const DefaultSDSUserID = "UNK"

// Wire returns the message as it goes on the wire on route r: a copy of m
// with the spec's sending rules applied (see the package documentation). m is
// not changed; the copy shares m's attachments, which must not change while
// the copy or a Payload made from it is in use. Attachment content that was
// never loaded (nil Data) is a problem, reported as a *conneqt.ValidationError.
func Wire(r *conneqt.Route, m *conneqt.Message) (*conneqt.Message, error) {
	w := new(conneqt.Message)
	if err := wire(r, m, w); err != nil {
		return nil, err
	}
	return w, nil
}

// wire sets *w to the wire form of m on route r.
func wire(r *conneqt.Route, m *conneqt.Message, w *conneqt.Message) error {
	if r == nil || m == nil {
		return fmt.Errorf("assemble: no route or no message")
	}
	*w = *m
	if w.Type == "" {
		w.Type = r.MessageType
	}
	if w.Attachments == nil {
		w.Attachments = []*conneqt.Attachment{} // an array, never null
	}
	if w.Body != nil && *w.Body == (conneqt.Body{}) {
		w.Body = nil
	}
	if gp := w.GPConnectAdditionalInformation; gp != nil {
		w.GPConnectAdditionalInformation = wireGPConnect(r, gp)
	}
	var problems []conneqt.Problem
	for i, a := range w.Attachments {
		switch {
		case a == nil:
			problems = append(problems, conneqt.Problem{Name: conneqt.AttachmentField(i, ""), Reason: "is null: an attachment needs fileName, mimeType and content"})
		case a.Data == nil:
			problems = append(problems, conneqt.Problem{Name: conneqt.AttachmentField(i, "content"), Reason: "has no content: give content or a path to a file"})
		}
	}
	return conneqt.NewValidationError(problems)
}

// wireGPConnect applies the sending rules to gpConnectAdditionalInformation:
// nil when it is empty on a route that does not take it; empty practitioner
// and organisation objects left out; sdsUserId defaulted.
func wireGPConnect(r *conneqt.Route, gp *conneqt.GPConnectInfo) *conneqt.GPConnectInfo {
	c := *gp
	if c.Practitioner != nil {
		if *c.Practitioner == (conneqt.Practitioner{}) {
			c.Practitioner = nil
		} else if c.Practitioner.SDSUserID == "" {
			p := *c.Practitioner
			p.SDSUserID = DefaultSDSUserID
			c.Practitioner = &p
		}
	}
	if c.Organisation != nil && *c.Organisation == (conneqt.Contact{}) {
		c.Organisation = nil
	}
	if !r.GPConnectRequired && isZeroGPConnect(&c) {
		return nil
	}
	return &c
}

func isZeroGPConnect(c *conneqt.GPConnectInfo) bool {
	return c.RecipientType == "" && c.SenderReference == "" && c.Confidentiality == nil &&
		c.RelatesTo == "" && c.VersionNumber == 0 && c.Patient == (conneqt.GPPatient{}) &&
		c.Practitioner == nil && c.Organisation == nil && c.TypeCode == "" && c.TypeDescription == ""
}
