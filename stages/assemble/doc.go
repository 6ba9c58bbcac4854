// Package assemble is the "encode+assemble" stage: it turns a finished
// message into its wire body, one JSON document per message in the shape the
// route's endpoint takes, as a [Payload] that streams and encodes each
// attachment's content to Base64 as it goes.
//
// A Payload holds the envelope JSON (everything but the attachments' content)
// and references to the attachments' decoded bytes. Each reader of it writes
// the envelope around the attachments and encodes each attachment into
// standard Base64 as it is read, so sending a message of 10 x 5 MB needs the
// raw attachments plus a small constant and pooled buffers, never the encoded
// copy. Its Size is exact before anything is encoded (Content-Length), and
// NewReader can be called once per send attempt.
//
// The body is byte for byte what encoding/json's Marshal gives for the wire
// form of the message ([Wire]): field order as in conneqt.Message, the
// same string escaping (including <, > and & as \u003c, \u003e, \u0026), and
// content in padded standard Base64.
//
// The wire form follows docs/spec.md#wire-form: "type" is always sent (the
// route's type when the message has none); body.fileName does not exist;
// optional objects that are empty (body, practitioner, organisation, GP
// Connect information on a route without it) are left out; "attachments" is
// always an array, [] when there are none; a practitioner
// without an sdsUserId is sent with "UNK"; times are sent as given.
package assemble
