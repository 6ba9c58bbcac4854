package assemble

import (
	"fmt"

	"github.com/gpdoc/gpdoc/pipeline"
)

// DefaultSDSUserID is sent as practitioner.sdsUserId when a GP Connect
// practitioner has none: the service's own default (spec README).
const DefaultSDSUserID = "UNK"

// Wire returns the message as it goes on the wire on route r: a copy of m
// with the spec's sending rules applied (see the package documentation). m is
// not changed; the copy shares m's attachments, which must not change while
// the copy or a Payload made from it is in use. Attachment content that was
// never loaded (nil Data) is a problem, reported as a *pipeline.ValidationError.
func Wire(r *pipeline.Route, m *pipeline.Message) (*pipeline.Message, error) {
	w := new(pipeline.Message)
	if err := wire(r, m, w); err != nil {
		return nil, err
	}
	return w, nil
}

// wire sets *w to the wire form of m on route r.
func wire(r *pipeline.Route, m *pipeline.Message, w *pipeline.Message) error {
	if r == nil || m == nil {
		return fmt.Errorf("assemble: no route or no message")
	}
	*w = *m
	if w.Type == "" {
		w.Type = r.MessageType
	}
	if w.Attachments == nil {
		w.Attachments = []*pipeline.Attachment{} // an array, never null
	}
	if w.Body != nil && *w.Body == (pipeline.Body{}) {
		w.Body = nil
	}
	if gp := w.GPConnectAdditionalInformation; gp != nil {
		w.GPConnectAdditionalInformation = wireGPConnect(r, gp)
	}
	var problems []pipeline.Problem
	for i, a := range w.Attachments {
		switch {
		case a == nil:
			problems = append(problems, pipeline.Problem{Name: pipeline.AttachmentField(i, ""), Reason: "is null: an attachment needs fileName, mimeType and content"})
		case a.Data == nil:
			problems = append(problems, pipeline.Problem{Name: pipeline.AttachmentField(i, "content"), Reason: "has no content: give content or a path to a file"})
		}
	}
	return pipeline.NewValidationError(problems)
}

// wireGPConnect applies the sending rules to gpConnectAdditionalInformation:
// nil when it is empty on a route that does not take it; empty practitioner
// and organisation objects left out; sdsUserId defaulted.
func wireGPConnect(r *pipeline.Route, gp *pipeline.GPConnectInfo) *pipeline.GPConnectInfo {
	c := *gp
	if c.Practitioner != nil {
		if *c.Practitioner == (pipeline.Practitioner{}) {
			c.Practitioner = nil
		} else if c.Practitioner.SDSUserID == "" {
			p := *c.Practitioner
			p.SDSUserID = DefaultSDSUserID
			c.Practitioner = &p
		}
	}
	if c.Organisation != nil && *c.Organisation == (pipeline.Contact{}) {
		c.Organisation = nil
	}
	if !r.GPConnectRequired && isZeroGPConnect(&c) {
		return nil
	}
	return &c
}

func isZeroGPConnect(c *pipeline.GPConnectInfo) bool {
	return c.RecipientType == "" && c.SenderReference == "" && c.Confidentiality == nil &&
		c.RelatesTo == "" && c.VersionNumber == 0 && c.Patient == (pipeline.GPPatient{}) &&
		c.Practitioner == nil && c.Organisation == nil && c.TypeCode == "" && c.TypeDescription == ""
}
