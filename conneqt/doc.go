// Package conneqt is gpdoc's bottom layer: the conneQt messaging API's
// domain, with no knowledge of how gpdoc processes or sends a message.
//
//   - The message model: [Message] and its parts, in the API's own wire shape
//     (json tags are the API's field names).
//   - The route table: [Route] holds every per-route rule (endpoint, message
//     type, AccessToken policy, attachment count and MIME types, size limit,
//     identifier types, body rules, retryable statuses). Every other package
//     reads the rules from here; a rule that changes, changes in one line.
//   - Problems: [Problem] (one invalid parameter, named by the API's JSON
//     path: [AttachmentField], [IndexField]), [ValidationError] and the
//     RFC 7807 [ProblemDetails] the service answers with.
//   - One outcome vocabulary, [Outcome], with one classification,
//     [Classify], shared by the transport, the ledger and the backfill; and
//     the sentinel errors for the service's answers ([ErrInvalid],
//     [ErrUnauthorized], [ErrRejectedContent], [ErrConflict],
//     [ErrUnavailable]).
//   - The identifiers, in sub-packages: nhsnumber (NHS numbers, Modulus 11),
//     sctid (SNOMED CT identifiers, Verhoeff), winname (Windows file names).
//
// The facts these encode come from the API's published pages and the
// project's reading of them; docs/spec.md in the repository lists each one
// with its source.
package conneqt
