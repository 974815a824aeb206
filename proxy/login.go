package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/userfile"
)

// maxFormBytes bounds login, refresh and logout request bodies.
const maxFormBytes = 64 << 10

// statusClientClosedRequest is nginx's 499: the client went away before
// the answer was ready. Nobody receives it; it is what the metrics and
// the access log record.
const statusClientClosedRequest = 499

// credentials is a parsed login request.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	RD       string `json:"rd"`
	json     bool   // sent as JSON (answer JSON); else a form (answer HTML)
}

// parseCredentials reads a form or JSON login body.
func parseCredentials(r *http.Request) (credentials, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var c credentials
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return credentials{json: true}, fmt.Errorf("login body: %w", err)
		}
		c.json = true
		return c, nil
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			return credentials{}, fmt.Errorf("login form: %w", err)
		}
		return credentials{Username: r.PostForm.Get("username"), Password: r.PostForm.Get("password"), RD: r.PostForm.Get("rd")}, nil
	}
	return credentials{json: true}, fmt.Errorf("login: unsupported content type %q", mt)
}

// serveLogin answers GET (the page) and POST (form or JSON login).
func (g *Gateway) serveLogin(w http.ResponseWriter, r *http.Request, ctx *reqContext) {
	if !g.passwordLogin() && len(g.oidc.list) == 0 {
		g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "Login is not configured (login.users_file or oidc.providers)."})
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		rd, _ := g.returnTo.Validate(r.URL.Query().Get("rd"))
		g.renderLogin(w, http.StatusOK, loginView{RD: rd})
	case http.MethodPost:
		if !g.passwordLogin() {
			g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "Password login is off here (login.form, login.users_file); sign in with a provider."})
			return
		}
		g.login(w, r, ctx)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		g.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "Use GET or POST."})
	}
}

func (g *Gateway) login(w http.ResponseWriter, r *http.Request, ctx *reqContext) {
	c, err := parseCredentials(r)
	rd, _ := g.returnTo.Validate(c.RD)
	fail := func(e *Error) {
		g.metrics.Login(loginResult(e.Code), loginMethod(c.json))
		if c.json {
			g.writeError(w, r, e)
			return
		}
		g.renderLogin(w, e.Status, loginView{RD: rd, Username: c.Username, Error: e.Message})
	}
	if err != nil || c.Username == "" || c.Password == "" {
		fail(&Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "Enter a username and a password.", Err: err})
		return
	}
	name := userfile.Normalize(c.Username)
	for _, lim := range []struct {
		l   limiter
		key string
	}{{g.ipLimit, "ip:" + g.trust.clientIP(r, ctx.trusted)}, {g.userLimit, "user:" + name}} {
		if ok, retry := lim.l.Allow(lim.key); !ok {
			secs := int(math.Ceil(retry.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			fail(&Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: "Too many sign-in attempts. Wait a moment and try again.", Err: nil})
			return
		}
	}
	// Only a few password checks run at once (64 MiB each, see
	// userfile.DefaultVerifications); the others wait here, as long as
	// their client does.
	user, err := g.hashes.Authenticate(r.Context(), g.users(), c.Username, c.Password)
	switch {
	case r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// The client went away while waiting for a slot: nobody reads the
		// answer. 499 (nginx's "client closed request") keeps it out of
		// the 5xx the gateway answers on its own account; it counts as
		// throttled, which it was.
		g.metrics.Login(metrics.LoginRateLimited, loginMethod(c.json))
		g.log.Debug("login abandoned while waiting to check the password", "cause", err.Error())
		w.WriteHeader(statusClientClosedRequest)
		return
	case errors.Is(err, userfile.ErrDisabled):
		fail(&Error{Status: http.StatusForbidden, Code: CodeAccountDisabled, Message: "This account is disabled.", Err: err})
		return
	case err != nil:
		fail(&Error{Status: http.StatusUnauthorized, Code: CodeInvalidCredentials, Message: "The username or password is not correct.", Err: err})
		return
	}
	g.userLimit.Reset("user:" + name)
	issued, err := g.startSession(w.Header(), r, ctx, user.Identity(), session.Client{Source: sourceUsers})
	if err != nil {
		fail(authError(err))
		return
	}
	g.metrics.Login(metrics.LoginSuccess, loginMethod(c.json))
	g.log.Info("login", "user", issued.Principal.Subject, "session", issued.Principal.SessionID, "mode", modeName(ctx.headerMode))
	if !c.json && !ctx.headerMode {
		w.Header().Set("Location", rd)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	g.writeIssued(w, ctx, issued)
}

// passwordLogin reports whether the username and password form is on: a
// users file and login.form.
func (g *Gateway) passwordLogin() bool { return g.users != nil && g.loginForm }

// startSession discards any session the request already carries (no
// session fixation), starts a new one and, in cookie mode, sets its cookie
// on the response headers h. c names the source (and its secret); the
// client's user agent and IP are filled in here.
func (g *Gateway) startSession(h http.Header, r *http.Request, ctx *reqContext, id session.Identity, c session.Client) (session.Issued, error) {
	g.endSession(r, ctx, false)
	c.UserAgent, c.IP = r.UserAgent(), g.trust.clientIP(r, ctx.trusted)
	issued, err := g.sessions.Login(r.Context(), id, c)
	if err != nil {
		return issued, err
	}
	if !ctx.headerMode {
		g.cookies.Set(h, session.CookieValue{Access: issued.Access, Refresh: issued.Refresh})
	}
	return issued, nil
}

func modeName(header bool) string {
	if header {
		return "header"
	}
	return "cookie"
}

// sessionInfo is the JSON view of a session.
type sessionInfo struct {
	User      string   `json:"user"`
	Email     string   `json:"email,omitempty"`
	Roles     []string `json:"roles"`
	SessionID string   `json:"session_id"`
	// Issuer is the external issuer of a bearer token (docs/configuration.md#issuers).
	Issuer           string    `json:"issuer,omitempty"`
	ExpiresAt        time.Time `json:"expires_at"`
	SessionExpiresAt time.Time `json:"session_expires_at,omitzero"`
}

func newSessionInfo(p *session.Principal, rec *session.Record) sessionInfo {
	si := sessionInfo{User: p.Subject, Email: p.Email, Roles: p.Roles, SessionID: p.SessionID, Issuer: p.Issuer, ExpiresAt: p.ExpiresAt}
	if si.Roles == nil {
		si.Roles = []string{}
	}
	if rec != nil {
		si.SessionExpiresAt = rec.Deadline()
	}
	return si
}

// issuedBody is the answer of login and refresh: the session, and in
// header mode the tokens (the client stores them; no cookie is set).
type issuedBody struct {
	sessionInfo
	*bearerTokens // nil in cookie mode: the fields are omitted
}

// bearerTokens are the header-mode tokens (RFC 6749 section 5.1 names).
type bearerTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func (g *Gateway) writeIssued(w http.ResponseWriter, ctx *reqContext, is session.Issued) {
	// expires_in is relative to the gateway's clock (RFC 6749 section 5.1).
	body := issuedBody{sessionInfo: newSessionInfo(is.Principal, &is.Record)}
	if ctx.headerMode {
		body.bearerTokens = &bearerTokens{
			AccessToken: is.Access, RefreshToken: is.Refresh, TokenType: "Bearer",
			ExpiresIn: int(math.Ceil(is.Principal.ExpiresAt.Sub(g.now()).Seconds())),
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readRefreshToken returns a header-mode refresh token: from a JSON body
// {"refresh_token": "..."} or from Authorization: Bearer.
func readRefreshToken(r *http.Request) (string, error) {
	if tok, found, err := session.BearerToken(r.Header); found || err != nil {
		return tok, err
	}
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxFormBytes)).Decode(&body)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("refresh body: %w", err)
	}
	if body.RefreshToken == "" {
		return "", session.ErrNoCredentials
	}
	return body.RefreshToken, nil
}
