package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/session"
)

// grantVerifier checks upstream grants: a legacy app that keeps its own
// login form vouches for a user by adding, to its response,
//
//	Gatehouse-Grant: base64url(JSON) "." base64url(HMAC-SHA256(secret, base64url(JSON)))
//
// with JSON {"sub", "email", "roles", "claims", "iat"}. The gateway
// verifies it, removes it and starts a session on that same response.
type grantVerifier struct {
	key    []byte
	maxAge time.Duration
	now    func() time.Time
}

// grantClaims is the JSON inside a grant.
type grantClaims struct {
	Sub    string         `json:"sub"`
	Email  string         `json:"email"`
	Roles  []string       `json:"roles"`
	Claims map[string]any `json:"claims"`
	Iat    int64          `json:"iat"`
}

var errBadGrant = errors.New("invalid upstream grant")

// verify returns the identity a grant vouches for.
func (gv *grantVerifier) verify(v string) (session.Identity, error) {
	if len(v) > 8<<10 {
		return session.Identity{}, fmt.Errorf("%w: too large", errBadGrant)
	}
	payload, sig, ok := strings.Cut(v, ".")
	if !ok {
		return session.Identity{}, fmt.Errorf("%w: not payload.signature", errBadGrant)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return session.Identity{}, fmt.Errorf("%w: signature encoding", errBadGrant)
	}
	m := hmac.New(sha256.New, gv.key)
	m.Write([]byte(payload))
	if !hmac.Equal(got, m.Sum(nil)) {
		return session.Identity{}, fmt.Errorf("%w: bad signature", errBadGrant)
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return session.Identity{}, fmt.Errorf("%w: payload encoding", errBadGrant)
	}
	var c grantClaims
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return session.Identity{}, fmt.Errorf("%w: payload: %w", errBadGrant, err)
	}
	if strings.TrimSpace(c.Sub) == "" {
		return session.Identity{}, fmt.Errorf("%w: no sub", errBadGrant)
	}
	age := gv.now().Sub(time.Unix(c.Iat, 0))
	if c.Iat == 0 || age > gv.maxAge || age < -30*time.Second {
		return session.Identity{}, fmt.Errorf("%w: iat out of range (age %s)", errBadGrant, age.Round(time.Second))
	}
	if err := c.headerSafe(); err != nil {
		return session.Identity{}, fmt.Errorf("%w: %w", errBadGrant, err)
	}
	return session.Identity{Subject: c.Sub, Email: c.Email, Roles: c.Roles, Claims: c.Claims}, nil
}

// headerSafe checks that the grant's values can travel in identity
// headers as they are: no control character anywhere (a header value is
// one line), and no comma in a role (the roles header is comma-separated,
// so "user,admin" would reach the app as two roles). Unlike a provider's
// claims, whose odd roles are dropped (session.Mapping), a grant comes
// from the app itself: a bad value is the app's bug, and the grant is
// refused whole.
func (c *grantClaims) headerSafe() error {
	if strings.ContainsFunc(c.Sub, unicode.IsControl) {
		return errors.New("sub contains a control character")
	}
	if strings.ContainsFunc(c.Email, unicode.IsControl) {
		return errors.New("email contains a control character")
	}
	for i, r := range c.Roles {
		if r == "" || strings.ContainsFunc(r, func(r rune) bool { return r == ',' || unicode.IsControl(r) }) {
			return fmt.Errorf("roles[%d] %.64q is empty or contains a comma or a control character", i, r)
		}
	}
	return nil
}

// acceptGrant removes the grant header from an upstream response and, when
// grants are on and it verifies, starts a session and sets its cookie on
// the response. An invalid grant is logged and ignored: never a session.
func (g *Gateway) acceptGrant(res *http.Response) {
	name := g.headers.grant
	v := res.Header.Get(name)
	if v == "" {
		return
	}
	res.Header.Del(name)
	f, _ := res.Request.Context().Value(forwardKey{}).(*forward)
	if g.grant == nil || f == nil || f.in == nil {
		g.metrics.Login(metrics.LoginError, metrics.LoginGrant)
		g.log.Warn("upstream sent a grant but grants are off (grant.secret)", "header", name)
		return
	}
	id, err := g.grant.verify(v)
	if err != nil {
		g.metrics.Login(metrics.LoginInvalidCredentials, metrics.LoginGrant)
		g.log.Warn("ignored upstream grant", "cause", err.Error())
		return
	}
	ctx := *f.req
	ctx.headerMode = false // a grant arrives on a browser's response: cookie mode
	issued, err := g.startSession(res.Header, f.in, &ctx, id, session.Client{Source: sourceGrant})
	if err != nil {
		g.metrics.Login(metrics.LoginError, metrics.LoginGrant)
		g.log.Warn("grant login failed", "cause", err.Error())
		return
	}
	g.metrics.Login(metrics.LoginSuccess, metrics.LoginGrant)
	g.log.Info("login", "user", issued.Principal.Subject, "session", issued.Principal.SessionID, "mode", "grant")
}
