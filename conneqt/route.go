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
	MaxAttachmentBytes             int64    // decoded bytes per attachment

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

	// RetryStatus lists the HTTP statuses the service documents as transient
	// on this route. Network errors are always retryable.
	RetryStatus []int
}

// AllowsMIME reports whether the route accepts an attachment declared as mime.
func (r *Route) AllowsMIME(mime string) bool { return slices.Contains(r.AttachmentMIMETypes, mime) }

// AllowsBodyMIME reports whether the route accepts a body of type mime.
func (r *Route) AllowsBodyMIME(mime string) bool { return slices.Contains(r.BodyMIMETypes, mime) }

// Retryable reports whether an HTTP status is documented as transient here.
func (r *Route) Retryable(status int) bool { return slices.Contains(r.RetryStatus, status) }

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
		RecipientIDTypes:    []string{IDOcsClient},
		SubjectIDTypes:      []string{IDVerifiedNHSNumber},
		BodyRequired:        true,
		BodyMIMETypes:       []string{MIMEText},
		ExpiryMin:           24 * time.Hour,
		ExpiryMax:           28 * 24 * time.Hour,
		CodedDataAllowed:    true,
		RetryStatus:         []int{500},
	},
	Instant: {
		Name:           Instant,
		MessageType:    "ToolbarInstantMessage",
		Path:           "/api/v1/messages/instant",
		AccessToken:    TokenRequired,
		MinAttachments: 1, MaxAttachments: 10,
		AttachmentMIMETypes: []string{MIMEPDF, MIMEJPEG, MIMEText, MIMEConsultation},
		MaxAttachmentBytes:  DefaultMaxAttachmentBytes,
		RecipientIDTypes:    []string{IDOcsClient},
		SubjectIDTypes:      []string{IDVerifiedNHSNumber},
		BodyMIMETypes:       []string{MIMEText, MIMEHTML},
		CodedDataAllowed:    true,
		RetryStatus:         []int{500},
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
		RecipientIDTypes:    []string{IDOdsOrganisation},
		RecipientLiterals:   []string{"UNK", "gpconnect"},
		SubjectIDTypes:      []string{IDVerifiedNHSNumber, IDNHSNumber},
		BodyMIMETypes:       []string{MIMEText, MIMEHTML},
		// Decision: coded data is not part of this route.
		CodedDataAllowed:  false,
		GPConnectRequired: true,
		RetryStatus:       []int{500, 503},
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
