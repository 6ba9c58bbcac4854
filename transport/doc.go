// Package transport is gpdoc's conneQt client: it sends assembled messages to
// the three message routes, reads their status and the topics list, and
// retries only what is safe to retry.
//
// # Safety
//
// Every attempt of a send carries the same messageId and the same bytes (a
// fresh reader from the [pipeline.Payload] per attempt), so the service's
// idempotency on messageId makes a retry of a message that was in fact
// accepted (a "lost response") harmless. Which statuses are retried is the
// route table's (conneqt.Route.RetryStatus, read through Route.Retryable;
// reads that belong to no route use conneqt.RetryableRead): the client keeps
// no list of its own. Statuses the service uses for problems with the
// message itself (400, 401, 403, 406, 409: conneqt.NeverRetried) are never
// retried. Network errors and per-attempt timeouts always are. Retries use
// exponential backoff and full jitter, honouring Retry-After, up to
// [Options.MaxAttempts] attempts and [Options.MaxElapsed] in total.
//
// The API key and access token travel only over HTTPS, or over plain HTTP to a
// loopback address (the simulator); the client refuses anything else, never
// follows redirects (a redirect would carry the ApiKey header to wherever it
// points) and never logs either secret.
//
// # Outcomes
//
// Failures are typed: an [*APIError] for an HTTP answer (with the parsed RFC
// 7807 problem), a [*NetworkError] for an attempt that got no answer. Both
// match the sentinel their status stands for (conneqt.ErrUnavailable...)
// and say whether they are Temporary, so that conneqt.Classify maps any
// error (including a pipeline.Runner result) to the conneqt.Outcome a
// delivery ledger records: sent, failed-retryable, failed-permanent,
// rejected-content or invalid.
//
// An answer to a send whose meaning cannot be established after the bytes
// left (a 2xx whose body is not the API's JSON or names no usable status
// endpoint, or a redirect) is an [*UnconfirmedError]: the message may have
// been delivered, it matches conneqt.ErrUnconfirmed and classifies as
// failed-retryable, so that it is resent only with the same id and bytes.
package transport
