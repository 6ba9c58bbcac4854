// Package conneqttest is a simulator of the conneQt messaging API, for
// tests and for people trying gpdoc out, in the manner of net/http/httptest:
// [NewServer] starts one on a loopback port, [Server.URL] is its base URL,
// [Server.Close] stops it. `gpdoc sim` serves the same handler on an address.
//
// It serves the three message endpoints of the route table, the status
// endpoints, topics, the connectivity test and the instant access-token
// exchange, and answers as the service's pages say: 401 without a known
// ApiKey, 403 on the instant route without a granted AccessToken, 400 with
// invalidParameters listing every invalid field (strict JSON: unknown members
// are errors), 406 when a decoded attachment starts with the EICAR test
// string, and 200 with messageStatusEndpoint.
//
// # Idempotency
//
// A message is keyed by its messageId. Sending the same messageId with the
// same content (the SHA-256 of the decoded message re-encoded canonically)
// again answers 200 with the same status endpoint, is counted as a
// duplicate, and is not stored again. The same messageId with different
// content answers 409 Conflict (decision: the service's pages do not say;
// 409 keeps it apart from the 400 of an invalid message, and the client
// never retries it).
//
// # Faults
//
// Faults are injected on demand, from [Faults] rates (deterministic for a
// seed: each decision is a hash of the seed, the messageId and how many
// times that messageId has been seen, so concurrency does not change it) or
// from a script of [Fault]s consumed in order. A fault can strike before
// the message is stored (the service failed to take it) or after (the
// service took it but the answer was lost: a 5xx or a dropped connection).
// The second kind is what proves a client's retries are safe: the retry is
// a duplicate, and stats show it stored once. Faults only strike valid
// messages: a 400 or 406 is answered whatever the faults.
//
// # Bounds
//
// Request bodies are bounded one by one (Options.MaxBodyBytes, 413) and
// together (Options.MaxBodyBytesInFlight: a request waits for room, then
// 503 with Retry-After); connections have read and idle timeouts; accepted
// messages keep their attachments' bytes only up to Options.MaxKeptBytes
// (or all of them with Options.KeepBodies) and otherwise keep digests
// ([AttachmentDigest]). See docs/simulator.md, "Bounds".
//
// # Status
//
// An accepted message is PENDING; it becomes DELIVERED and then COMPLETED
// (sub-status "Imported") after Options.DeliverAfter and
// Options.CompleteAfter, or when tests call [Server.Deliver] and
// [Server.Complete]; [Server.Reject] makes it REJECTED. An instant message
// that [Server.FailInstantImport] fails, or that is still PENDING after
// Options.InstantFallback, becomes a standard message, PENDING, with
// sub-status "Failed instant message import" (or "Instant message expired").
// A message not COMPLETED or REJECTED by its expiryDateTime (standard
// messages: 7 days by default) becomes EXPIRED.
package conneqttest
