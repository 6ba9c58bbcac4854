package conneqt

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// MIME types named by the conneQt API.
const (
	MIMEPDF          = "application/pdf"
	MIMEJPEG         = "image/jpeg"
	MIMEPNG          = "image/png"
	MIMEText         = "text/plain"
	MIMEHTML         = "text/html"
	MIMEConsultation = "text/vnd.qxlva.conneqt.consultation"
)

// Identifier types named by the conneQt API.
const (
	IDOcsClient         = "OcsClientIdentifier"
	IDOdsOrganisation   = "OdsOrganisationId"
	IDVerifiedNHSNumber = "VerifiedNhsNumber"
	IDNHSNumber         = "NHSNumber"
)

// DefaultMaxAttachmentBytes is the per-attachment limit: "5 MB" read as
// 5,000,000 decoded bytes (docs/spec.md#size-limit).
const DefaultMaxAttachmentBytes = 5_000_000

// DefaultMaxPixels is the pixel budget of one image (width × height, read
// from its header before anything decodes it): 100 megapixels, well above
// any phone or scanner image. Images declaring more are refused as
// decompression bombs. The validate, sanitise and downsample stages share
// it.
const DefaultMaxPixels = 100_000_000

// LimitBasis says what a route's MaxAttachmentBytes counts. The pages say
// "5 MB" without saying of what; docs/spec.md#size-limit reads it as
// decoded bytes (decision), and the other reading, the Base64 text, makes every file
// between 3.75 and 5 MB a 400 from the service. Both are settable
// (gpdoc's --limit-basis).
type LimitBasis string

const (
	// LimitDecoded counts the file's own (decoded) bytes: the default.
	LimitDecoded LimitBasis = "decoded"
	// LimitBase64 counts the Base64 text sent in "content": 4*ceil(n/3)
	// bytes for a file of n bytes.
	LimitBase64 LimitBasis = "base64"
)

// ParseLimitBasis reads "decoded" or "base64" (case-insensitive).
func ParseLimitBasis(s string) (LimitBasis, error) {
	switch b := LimitBasis(strings.ToLower(strings.TrimSpace(s))); b {
	case LimitDecoded, LimitBase64:
		return b, nil
	}
	return "", fmt.Errorf("unknown size-limit basis %q (valid: decoded, base64)", s)
}

// TokenPolicy says when a route sends the AccessToken header.
type TokenPolicy int

const (
	// TokenNever: the route never sends an AccessToken.
	TokenNever TokenPolicy = iota
	// TokenRequired: the route refuses to send without an AccessToken.
	TokenRequired
	// TokenWhenConfigured: the AccessToken is sent when one is configured.
	TokenWhenConfigured
)

// RouteName names a route in manifests and on the command line.
type RouteName string

// The three routes.
const (
	Standard  RouteName = "standard"
	Instant   RouteName = "instant"
	GPConnect RouteName = "gpconnect"
)

// Route holds every rule that differs between the three conneQt routes. It is
// the only place in gpdoc where route differences live: validation, assembly,
// the client and the simulator all read it. See docs/spec.md#per-route-rules.
type Route struct {
	Name        RouteName
	MessageType string // the wire "type" value
	Path        string // POST endpoint, relative to the base URL
	AccessToken TokenPolicy

	MinAttachments, MaxAttachments int
	AttachmentMIMETypes            []string // allowed declared types, in the spec's order
	// MaxAttachmentBytes is the per-attachment limit, counted as LimitBasis
	// says; zero or less means none. Size checks and the downsample stage
	// read it through MaxDecodedBytes.
	MaxAttachmentBytes int64
	// LimitBasis says what MaxAttachmentBytes counts: the file's decoded
	// bytes (LimitDecoded, also the zero value) or the Base64 text of
	// "content" (LimitBase64).
	LimitBasis LimitBasis

	RecipientIDTypes []string
	// RecipientLiterals are values accepted in recipient.id.value instead of
	// an organisation code (GP Connect: "UNK", "gpconnect").
	RecipientLiterals []string
	SubjectIDTypes    []string

	BodyRequired  bool
	BodyMIMETypes []string

	// ExpiryMin and ExpiryMax bound expiryDateTime relative to now; a zero
	// ExpiryMax means only "in the future" is required.
	ExpiryMin, ExpiryMax time.Duration

	CodedDataAllowed  bool
	GPConnectRequired bool // gpConnectAdditionalInformation required (else refused)

	// RetryStatus lists the HTTP statuses the client retries on this route
	// (with the same messageId and body), and the only place gpdoc keeps
	// such a list: transport.Client reads it through Retryable. Network
	// errors are always retryable; the statuses in [NeverRetried] never
	// are, whatever is listed.
	RetryStatus []int
}

// MaxDecodedBytes is the largest attachment, in decoded bytes, that the
// route's limit admits under its basis: MaxAttachmentBytes itself for
// LimitDecoded; for LimitBase64 the largest n with 4*ceil(n/3) <=
// MaxAttachmentBytes, that is 3*floor(MaxAttachmentBytes/4). Zero means
// no limit (MaxAttachmentBytes <= 0); a Base64 limit under 4 bytes, which
// would admit no content at all, is refused by WithAttachmentLimit. Every
// size check, and the downsample stage's target, is this number.
func (r *Route) MaxDecodedBytes() int64 {
	if r.MaxAttachmentBytes <= 0 {
		return 0
	}
	if r.LimitBasis == LimitBase64 {
		return r.MaxAttachmentBytes / 4 * 3
	}
	return r.MaxAttachmentBytes
}

// DescribeLimit names the route's limit for messages: "5000000 bytes", or
// "5000000 bytes of Base64 (3750000 decoded bytes)".
func (r *Route) DescribeLimit() string {
	if r.LimitBasis == LimitBase64 {
		return fmt.Sprintf("%d bytes of Base64 (%d decoded bytes)", r.MaxAttachmentBytes, r.MaxDecodedBytes())
	}
	return fmt.Sprintf("%d bytes", r.MaxAttachmentBytes)
}

// WithAttachmentLimit returns a copy of the route whose per-attachment
// limit is limit bytes (0: keep the route's) counted on basis ("": keep the
// route's). It refuses a negative limit, an unknown basis and a Base64
// limit under 4 bytes (no content fits in it).
func (r *Route) WithAttachmentLimit(limit int64, basis LimitBasis) (*Route, error) {
	c := r.Clone()
	if limit < 0 {
		return nil, fmt.Errorf("attachment size limit %d is negative", limit)
	}
	if limit > 0 {
		c.MaxAttachmentBytes = limit
	}
	if basis != "" {
		b, err := ParseLimitBasis(string(basis))
		if err != nil {
			return nil, err
		}
		c.LimitBasis = b
	}
	if c.LimitBasis == LimitBase64 && c.MaxAttachmentBytes > 0 && c.MaxAttachmentBytes < 4 {
		return nil, fmt.Errorf("a limit of %d bytes of Base64 admits no content (Base64 comes in groups of 4)", c.MaxAttachmentBytes)
	}
	return c, nil
}

// Table returns a copy of the route table (every route cloned), keyed by
// name, for a caller to edit for its own pipeline.
func Table() map[RouteName]*Route {
	t := make(map[RouteName]*Route, len(routes))
	for n, r := range routes {
		t[n] = r.Clone()
	}
	return t
}

// AllowsMIME reports whether the route accepts an attachment declared as mime.
func (r *Route) AllowsMIME(mime string) bool { return slices.Contains(r.AttachmentMIMETypes, mime) }

// AllowsBodyMIME reports whether the route accepts a body of type mime.
func (r *Route) AllowsBodyMIME(mime string) bool { return slices.Contains(r.BodyMIMETypes, mime) }

// Retryable reports whether the client retries a send on this route that
// was answered with status: it is in RetryStatus and not in NeverRetried.
func (r *Route) Retryable(status int) bool {
	return !slices.Contains(NeverRetried, status) && slices.Contains(r.RetryStatus, status)
}

// NeverRetried are the statuses about the request itself, which repeating
// it cannot help: 400 (invalid), 401 and 403 (credentials), 406 (virus
// scan: never resend the attachment) and 409 (messageId reused). A route
// whose RetryStatus names one of them still does not retry it.
var NeverRetried = []int{400, 401, 403, 406, 409}

// RetryableRead reports whether a read (GET of a status endpoint, the
// topics or the connectivity check, which belong to no route) answered with
// status is retried: when any route retries a send answered with it.
func RetryableRead(status int) bool {
	for _, n := range RouteNames() {
		if routes[n].Retryable(status) {
			return true
		}
	}
	return false
}

// Retry statuses of the route table. The pages name 500 (internal error) on
// the instant and GP Connect routes (docs/spec.md#per-route-rules reads it
// onto the standard route too) and 503 (MESH unavailable) on GP Connect only.
// gpdoc's departures (decision): it also retries, on every route,
//   - 429 Too Many Requests: a rate limiter in front of the service refused
//     the request without processing it (Retry-After is honoured);
//   - 502 Bad Gateway and 504 Gateway Timeout: a proxy or load balancer
//     between gpdoc and the service failed, which says nothing about the
//     message;
//   - 503 Service Unavailable on the standard and instant routes: HTTP's
//     "try later", which the pages document only for GP Connect.
//
// Each is safe because a resend carries the same messageId, which the
// service de-duplicates. Drop a status here to follow the pages exactly.
var (
	retryStandard  = []int{500, 429, 502, 503, 504} // pages: 500; departures: 429, 502, 503, 504
	retryInstant   = []int{500, 429, 502, 503, 504} // pages: 500; departures: 429, 502, 503, 504
	retryGPConnect = []int{500, 503, 429, 502, 504} // pages: 500, 503; departures: 429, 502, 504
)

// routes is the route table. Decisions that docs/spec.md calls ours are
// marked; each is one edit here.
var routes = map[RouteName]*Route{
	Standard: {
		Name:           Standard,
		MessageType:    "ToolbarMessage",
		Path:           "/api/v1/messages",
		AccessToken:    TokenNever,
		MinAttachments: 1, MaxAttachments: 10,
		// PNG: only standard-message.txt lists it; drop it from a Clone to switch it off.
		AttachmentMIMETypes: []string{MIMEPDF, MIMEJPEG, MIMEPNG, MIMEText, MIMEConsultation},
		MaxAttachmentBytes:  DefaultMaxAttachmentBytes,
		LimitBasis:          LimitDecoded, // decision: 5 MB of the decoded file
		RecipientIDTypes:    []string{IDOcsClient},
		SubjectIDTypes:      []string{IDVerifiedNHSNumber},
		BodyRequired:        true,
		BodyMIMETypes:       []string{MIMEText},
		ExpiryMin:           24 * time.Hour,
		ExpiryMax:           28 * 24 * time.Hour,
		CodedDataAllowed:    true,
		RetryStatus:         retryStandard,
	},
	Instant: {
		Name:           Instant,
		MessageType:    "ToolbarInstantMessage",
		Path:           "/api/v1/messages/instant",
		AccessToken:    TokenRequired,
		MinAttachments: 1, MaxAttachments: 10,
		AttachmentMIMETypes: []string{MIMEPDF, MIMEJPEG, MIMEText, MIMEConsultation},
		MaxAttachmentBytes:  DefaultMaxAttachmentBytes,
		LimitBasis:          LimitDecoded, // decision: 5 MB of the decoded file
		RecipientIDTypes:    []string{IDOcsClient},
		SubjectIDTypes:      []string{IDVerifiedNHSNumber},
		BodyMIMETypes:       []string{MIMEText, MIMEHTML},
		CodedDataAllowed:    true,
		RetryStatus:         retryInstant,
	},
	GPConnect: {
		Name:           GPConnect,
		MessageType:    "GPConnectMessage",
		Path:           "/api/v1/gpconnect/messages",
		AccessToken:    TokenWhenConfigured,
		MinAttachments: 1, MaxAttachments: 1,
		// Decision: the one document is the consultation summary PDF.
		AttachmentMIMETypes: []string{MIMEPDF},
		MaxAttachmentBytes:  DefaultMaxAttachmentBytes,
		LimitBasis:          LimitDecoded, // decision: 5 MB of the decoded file
		RecipientIDTypes:    []string{IDOdsOrganisation},
		RecipientLiterals:   []string{"UNK", "gpconnect"},
		SubjectIDTypes:      []string{IDVerifiedNHSNumber, IDNHSNumber},
		BodyMIMETypes:       []string{MIMEText, MIMEHTML},
		// Decision: coded data is not part of this route.
		CodedDataAllowed:  false,
		GPConnectRequired: true,
		RetryStatus:       retryGPConnect,
	},
}

// RouteNames lists the routes in a stable order.
func RouteNames() []RouteName { return []RouteName{Standard, Instant, GPConnect} }

// LookupRoute returns the route called name ("standard", "instant",
// "gpconnect"; case-insensitive).
func LookupRoute(name string) (*Route, error) {
	if r, ok := routes[RouteName(strings.ToLower(strings.TrimSpace(name)))]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("%w: %q (valid: standard, instant, gpconnect)", ErrUnknownRoute, name)
}

// RouteForType returns the route whose wire "type" is messageType.
func RouteForType(messageType string) (*Route, error) {
	for _, n := range RouteNames() {
		if routes[n].MessageType == messageType {
			return routes[n], nil
		}
	}
	return nil, fmt.Errorf("%w: no route sends type %q (valid: ToolbarMessage, ToolbarInstantMessage, GPConnectMessage)", ErrUnknownRoute, messageType)
}

// MustRoute is LookupRoute for the three constants; it panics on anything else.
func MustRoute(name RouteName) *Route {
	r, err := LookupRoute(string(name))
	if err != nil {
		panic(err)
	}
	return r
}

// Clone returns a deep copy, so a caller can change a rule (say, the size
// limit) for its own pipeline without touching the shared table.
func (r *Route) Clone() *Route {
	c := *r
	c.AttachmentMIMETypes = slices.Clone(r.AttachmentMIMETypes)
	c.RecipientIDTypes = slices.Clone(r.RecipientIDTypes)
	c.RecipientLiterals = slices.Clone(r.RecipientLiterals)
	c.SubjectIDTypes = slices.Clone(r.SubjectIDTypes)
	c.BodyMIMETypes = slices.Clone(r.BodyMIMETypes)
	c.RetryStatus = slices.Clone(r.RetryStatus)
	return &c
}
