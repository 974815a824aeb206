package session

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Issuers routes bearer tokens to the verifier of their issuer: the
// gateway's own tokens (tokens.issuer) to Tokens.Verify, an external
// issuer's to its External. It is immutable and safe for concurrent use.
type Issuers struct {
	own      string
	maxBytes int
	byIss    map[string]*External
	ids      []string // the VerifierIDs of the externals
}

// NewIssuers returns the router for own (tokens.issuer) and the external
// verifiers. maxBytes bounds every bearer token before anything is
// decoded: the larger of tokens.max_token_bytes and
// external_tokens.max_token_bytes.
func NewIssuers(own string, maxBytes int, ext ...*External) *Issuers {
	is := &Issuers{own: own, maxBytes: maxBytes, byIss: make(map[string]*External, len(ext))}
	for _, e := range ext {
		is.byIss[e.issuer] = e
		is.ids = append(is.ids, e.id)
	}
	return is
}

// route decides who verifies raw, by its iss, before any key is looked
// up: nil for the gateway's own tokens, else the external issuer's
// verifier with the parsed header. A token whose iss is neither is
// rejected here, so a made-up issuer costs no network request.
//
// Only after the size check is anything decoded: the payload, strictly
// (base64url without padding or stray bits, one JSON object, no repeated
// or case-variant member names, so that "iss" cannot mean one thing here
// and another to the verifier; iss a string), then, for an external
// issuer, the header, as strictly as for own tokens.
func (is *Issuers) route(raw string) (*External, joseHeader, error) {
	var h joseHeader
	if len(raw) > is.maxBytes {
		return nil, h, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrInvalidToken, ErrTokenTooLarge, len(raw), is.maxBytes)
	}
	headerSeg, payloadSeg, _, err := splitCompact(raw)
	if err != nil {
		return nil, h, err
	}
	iss, err := payloadIssuer(payloadSeg)
	if err != nil {
		return nil, h, err
	}
	if iss == is.own {
		return nil, h, nil // Tokens.Verify parses the header itself
	}
	e, ok := is.byIss[iss]
	if !ok {
		return nil, h, fmt.Errorf("%w: %w: iss %.64q is not a configured issuer", ErrInvalidToken, ErrWrongIssuer, iss)
	}
	if h, err = parseHeader(headerSeg); err != nil {
		return nil, h, err
	}
	return e, h, nil
}

// payloadIssuer returns the iss claim of a JWT payload segment.
func payloadIssuer(seg string) (string, error) {
	data, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return "", fmt.Errorf("%w: %w: payload: %w", ErrInvalidToken, ErrMalformedToken, err)
	}
	if !json.Valid(data) {
		return "", fmt.Errorf("%w: %w: payload: %w", ErrInvalidToken, ErrMalformedToken, errInvalidJSON)
	}
	var iss string
	found := false
	err = scanObject(string(data), func(key, v string) error {
		if variantOf(key, registeredClaims[:]) {
			return fmt.Errorf("%w: %q", errDuplicateMember, key)
		}
		if key == "iss" {
			found = true
			if v == "null" {
				return fmt.Errorf("iss is not a string")
			}
			return stringValue(v, &iss)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w: payload: %w", ErrInvalidToken, ErrMalformedToken, err)
	}
	if !found {
		return "", fmt.Errorf("%w: %w: iss", ErrInvalidToken, ErrMissingClaim)
	}
	return iss, nil
}
