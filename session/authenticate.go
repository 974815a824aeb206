package session

import (
	"errors"
	"fmt"
	"net/http"
)

// Authenticator finds and verifies the credential of a request: a bearer
// token, else the session cookie. It decides only; the proxy applies the
// Result (clearing the cookie, stripping the header, refreshing).
type Authenticator struct {
	// Tokens verifies access tokens, from either place: a *Tokens, or a
	// *Manager, which also checks revocation.
	Tokens Verifier
	// Bearer, when set, verifies bearer tokens instead of Tokens: a
	// Manager's VerifyBearer, which also accepts external issuers' tokens.
	// Cookies are always verified with Tokens, so an external token is
	// never accepted from a cookie.
	Bearer Verifier
	// Cookies names the session cookie.
	Cookies *Cookies
}

// Verifier verifies an access token.
type Verifier interface {
	Verify(raw string) (*Principal, error)
}

// VerifierFunc adapts a function to Verifier.
type VerifierFunc func(raw string) (*Principal, error)

// Verify calls f.
func (f VerifierFunc) Verify(raw string) (*Principal, error) { return f(raw) }

// Result is what Authenticate found, alongside its error.
type Result struct {
	// Principal is the verified caller; nil when not authenticated.
	Principal *Principal
	// Bearer is true when the credential came from Authorization: Bearer
	// (valid or not): the proxy then removes that header before the
	// upstream, and answers failures with WWW-Authenticate (RFC 6750).
	Bearer bool
	// Cookie is the chosen session cookie, in cookie mode: the valid one,
	// or the expired one a refresh can start from (its Refresh half).
	Cookie *CookieValue
	// ClearCookie asks the response to clear our cookie: no copy was
	// genuine (junk, forged, other issuers), or several genuine copies were
	// seen.
	ClearCookie bool
}

// Authenticate finds the request's credential and verifies it.
//
// A Bearer Authorization header wins: it is verified and cookies are
// ignored (and not cleared). A malformed one is ErrMalformedAuthorization,
// never a fall-back to cookies.
//
// Otherwise every cookie of our name is considered. A copy is genuine when
// its access token verifies or is merely expired (we signed it). Then:
//   - no cookie: ErrNoCredentials;
//   - no genuine copy: the first copy's error, ClearCookie;
//   - two or more genuine copies: ErrDuplicateCookie, ClearCookie (one is
//     never picked silently: that is how session fixation by cookie
//     tossing from a sibling subdomain works);
//   - one genuine, valid copy: its Principal; other copies are ignored and
//     NOT cleared: a browser holds two cookies of one name only when they
//     differ in Domain or Path, so a clear with our attributes would delete
//     the genuine cookie and leave the planted one (a logout-on-every-
//     request attack for whoever can plant a cookie);
//   - one genuine, expired copy: its ErrTokenExpired error and Cookie set,
//     for a refresh.
func (a *Authenticator) Authenticate(r *http.Request) (Result, error) {
	tok, found, err := BearerToken(r.Header)
	if err != nil {
		return Result{Bearer: true}, err
	}
	if found {
		v := a.Bearer
		if v == nil {
			v = a.Tokens
		}
		p, err := v.Verify(tok)
		if err != nil {
			return Result{Bearer: true}, err
		}
		return Result{Principal: p, Bearer: true}, nil
	}

	copies := r.CookiesNamed(a.Cookies.Name())
	if len(copies) == 0 {
		return Result{}, ErrNoCredentials
	}
	var (
		genuine   int
		chosen    *CookieValue
		principal *Principal
		chosenErr error
		firstErr  error
	)
	for _, c := range copies {
		v, err := DecodeCookieValue(c.Value)
		var p *Principal
		if err == nil {
			p, err = a.Tokens.Verify(v.Access)
		}
		if errors.Is(err, ErrStoreUnavailable) {
			// No verdict on the cookie: never clear it for an outage.
			return Result{}, err
		}
		// A revoked session's cookie is genuine but dead: it is
		// treated like junk, so it is cleared.
		if err != nil && !errors.Is(err, ErrTokenExpired) {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		genuine++
		chosen, principal, chosenErr = &v, p, err
	}
	switch {
	case genuine == 0:
		return Result{ClearCookie: true}, firstErr
	case genuine > 1:
		return Result{ClearCookie: true}, fmt.Errorf("%w: %d genuine copies of cookie %q", ErrDuplicateCookie, genuine, a.Cookies.Name())
	case chosenErr != nil: // expired: a refresh may rescue it
		return Result{Cookie: chosen}, chosenErr
	default:
		return Result{Principal: principal, Cookie: chosen}, nil
	}
}
