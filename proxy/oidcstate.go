package proxy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Why the state of an OIDC sign-in is refused; each matches errBadState
// and becomes OIDC_STATE_INVALID.
var (
	errBadState      = errors.New("oidc: invalid sign-in state")
	errStateMissing  = fmt.Errorf("%w: no state cookie for this state (another browser, cookies blocked, or already used)", errBadState)
	errStateForged   = fmt.Errorf("%w: the state cookie's signature does not verify", errBadState)
	errStateExpired  = fmt.Errorf("%w: the sign-in took longer than oidc.state_ttl", errBadState)
	errStateMismatch = fmt.Errorf("%w: the callback's state or provider does not match the cookie", errBadState)
	errStateReplayed = fmt.Errorf("%w: this state was already used", errBadState)
)

// stateKeyLabel separates the state-cookie key from every other use of
// session.secret.
const stateKeyLabel = "gatehouse oidc state cookie v1"

// oidcState is what the state cookie carries from the start of a sign-in
// to its callback. It is signed, not encrypted: the PKCE verifier in it
// is useless without the authorization code, which only the provider's
// redirect delivers, and the client secret (never in the cookie).
type oidcState struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	RD       string `json:"r"`
	Expires  int64  `json:"e"` // Unix seconds
}

// stateCookies signs, reads and clears the state cookies of one
// provider. Each sign-in has its own cookie, named after a hash of its
// state, so sign-ins started in parallel tabs do not overwrite each other;
// each lives oidc.state_ttl at most and is cleared by its callback.
//
// The cookie is "__Host-"-prefixed, Secure and Path=/ when the callback is
// https (browsers accept the prefix only with Path=/; it stops a sibling
// subdomain from planting a state cookie of its own, i.e. login CSRF).
// Over plain http (local testing) it is named without the prefix and
// scoped to Path=<auth_prefix>/oidc/.
type stateCookies struct {
	key    []byte // HMAC-SHA256
	ttl    time.Duration
	now    func() time.Time
	prefix string // cookie name prefix
	path   string
	secure bool
	used   *usedStates
}

// newStateKey derives the state-cookie key from session.secret, so that
// replicas sharing it accept each other's cookies; without a secret it is
// random per process (a callback must then reach the replica, or process,
// that started the sign-in).
func newStateKey(secret string) []byte {
	if secret == "" {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		return key
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stateKeyLabel))
	return m.Sum(nil)
}

// stateCookiePrefix is the start of every state cookie's name; the
// gateway strips such cookies from requests to the upstream.
func stateCookiePrefix(secure bool) string {
	if secure {
		return "__Host-gatehouse-oidc-"
	}
	return "gatehouse-oidc-"
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// name is the cookie name of the sign-in with this state.
func (c *stateCookies) name(state string) string {
	sum := sha256.Sum256([]byte(state))
	return c.prefix + hex.EncodeToString(sum[:8])
}

// issue starts a sign-in with provider: fresh state, nonce and PKCE
// verifier, and the Set-Cookie line that carries them.
func (c *stateCookies) issue(provider, rd string) (oidcState, *http.Cookie) {
	s := oidcState{
		Provider: provider,
		State:    randomToken(32),
		Nonce:    randomToken(32),
		Verifier: randomToken(32), // 43 characters (RFC 7636 section 4.1)
		RD:       rd,
		Expires:  c.now().Add(c.ttl).Unix(),
	}
	payload, _ := json.Marshal(s)
	value := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(c.mac(payload))
	return s, c.cookie(s.State, value, int(c.ttl.Seconds()))
}

// cookie builds a state cookie; maxAge < 0 deletes it.
func (c *stateCookies) cookie(state, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: c.name(state), Value: value, Path: c.path, MaxAge: maxAge,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// clear returns the Set-Cookie that deletes the cookie of state.
func (c *stateCookies) clear(state string) *http.Cookie { return c.cookie(state, "", -1) }

func (c *stateCookies) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)
}

// open verifies the callback of a sign-in: the cookie for state exists,
// is signed by us, has not expired, names provider, carries exactly state
// (compared in constant time) and was not used before. It marks the
// state used, so a replayed callback fails even with the cookie replayed.
func (c *stateCookies) open(r *http.Request, provider, state string) (oidcState, error) {
	if state == "" {
		return oidcState{}, errStateMissing
	}
	ck, err := r.Cookie(c.name(state))
	if err != nil {
		return oidcState{}, errStateMissing
	}
	p64, m64, ok := strings.Cut(ck.Value, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(m64)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(sig, c.mac(payload)) {
		return oidcState{}, errStateForged
	}
	var s oidcState
	if err := json.Unmarshal(payload, &s); err != nil {
		return oidcState{}, fmt.Errorf("%w: %w", errStateForged, err)
	}
	now := c.now()
	if now.Unix() >= s.Expires {
		return oidcState{}, errStateExpired
	}
	if s.Provider != provider || subtle.ConstantTimeCompare([]byte(s.State), []byte(state)) != 1 {
		return oidcState{}, errStateMismatch
	}
	if !c.used.use(c.name(state), time.Unix(s.Expires, 0), now) {
		return oidcState{}, errStateReplayed
	}
	return s, nil
}

// usedStates remembers the states whose callback was seen, until they
// expire, so each is accepted once per process. It is bounded: past max
// entries, expired ones are dropped first, then the oldest to expire
// (under such a flood the cookie being cleared, and the provider's
// single-use code, still stop an honest browser's replay).
type usedStates struct {
	mu  sync.Mutex
	m   map[string]time.Time
	max int
}

func newUsedStates(max int) *usedStates {
	return &usedStates{m: make(map[string]time.Time), max: max}
}

// use records key, valid until exp, and reports whether it was new.
func (u *usedStates) use(key string, exp, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if e, seen := u.m[key]; seen && now.Before(e) {
		return false
	}
	if len(u.m) >= u.max {
		u.evict(now)
	}
	u.m[key] = exp
	return true
}

// forget drops key, so that it is new again.
func (u *usedStates) forget(key string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, key)
}

// evict drops expired entries and, if none expired, the one closest to
// expiry. Called with mu held.
func (u *usedStates) evict(now time.Time) {
	var oldest string
	var oldestExp time.Time
	for k, e := range u.m {
		if !now.Before(e) {
			delete(u.m, k)
			continue
		}
		if oldest == "" || e.Before(oldestExp) {
			oldest, oldestExp = k, e
		}
	}
	if len(u.m) >= u.max && oldest != "" {
		delete(u.m, oldest)
	}
}

// stripStateCookies removes every OIDC state cookie from a request to the
// upstream (with https they are Path=/, so the browser sends them along
// for the few minutes of a sign-in). Other cookies are kept as sent.
func stripStateCookies(h http.Header) {
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	kept := lines[:0:0]
	for _, line := range lines {
		if !strings.Contains(line, "gatehouse-oidc-") {
			kept = append(kept, line) // fast path: untouched
			continue
		}
		var parts []string
		for part := range strings.SplitSeq(line, ";") {
			name, _, _ := strings.Cut(part, "=")
			name = strings.Trim(name, " \t\r\n")
			if strings.HasPrefix(name, stateCookiePrefix(true)) || strings.HasPrefix(name, stateCookiePrefix(false)) {
				continue
			}
			parts = append(parts, part)
		}
		if rest := strings.Trim(strings.Join(parts, ";"), " \t\r\n"); strings.Trim(rest, "; \t") != "" {
			kept = append(kept, rest)
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = kept
}

// LogValue keeps the HMAC key out of logs.
func (c *stateCookies) LogValue() slog.Value {
	return slog.StringValue("[state cookies " + c.prefix + "]")
}
