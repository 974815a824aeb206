package proxy

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// assertion adds the signed identity assertion header (docs/assertion.md).
type assertion struct {
	header string // canonical header name
	signer *session.Asserter
}

// newAssertion prepares the assertion from a validated configuration.
func newAssertion(cfg *config.Config, keys *session.KeySet, now func() time.Time) (*assertion, error) {
	signer, err := session.NewAsserter(keys, cfg.Tokens.Issuer, cfg.Assertion.TTL, cfg.Assertion.Claims, now)
	if err != nil {
		return nil, &config.FieldError{Field: "assertion.enabled", Problem: "cannot sign assertions", Fix: "sign with an EdDSA, ES256 or RS256 key (tokens.signing_key): apps verify assertions with the public JWKS", Err: err}
	}
	return &assertion{header: http.CanonicalHeaderKey(cfg.Assertion.Header), signer: signer}, nil
}

// set puts the assertion for p, addressed to audience, on h. It must run
// after the identity headers were stripped. A signing failure leaves the
// header absent (the app then refuses the request) and is returned for
// the log.
func (a *assertion) set(h http.Header, p *session.Principal, audience string) error {
	if a == nil || p == nil {
		return nil
	}
	raw, err := a.signer.Assert(p, audience)
	if err != nil {
		return err
	}
	h[a.header] = []string{raw}
	return nil
}
