package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// AdminHandler serves the admin listener: /healthz and /readyz for
// probes, /metrics for Prometheus (no token: see Options.Gatherer and
// docs/metrics.md), and, when token is set, the session API under /v1/
// (bearer token, compared in constant time):
//
//	GET  /v1/sessions?user=U   a user's live sessions
//	POST /v1/revoke            {"session": id} | {"user": subject} | {"jti": id}
//
// It must be served on a separate, private listener, never the public one.
func (g *Gateway) AdminHandler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", g.readyz)
	mux.Handle("GET /metrics", g.metricsHandler())
	api := http.NewServeMux()
	api.HandleFunc("GET /v1/sessions", g.adminListSessions)
	api.HandleFunc("POST /v1/revoke", g.adminRevoke)
	api.HandleFunc("GET /v1/debug", g.adminDebug)
	api.HandleFunc("PUT /v1/debug", g.adminDebug)
	mux.Handle("/v1/", g.adminAuth(token, api))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "No such admin endpoint."})
	})
	return mux
}

// readyz is ready when the revocation mirror is fresh (or there is
// none); otherwise it names what is not. An external issuer without usable
// keys does not make the gateway unready — every replica would leave the
// Service at once, and cookie sessions and other issuers still work — but
// the answer says "degraded" and names it.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	if g.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	if m := g.mirror; m != nil && m.Started() && !m.Fresh() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"status": "unavailable", "reason": "revocation mirror is stale: the session store is unreachable",
			"age": m.Age().Round(time.Millisecond).String(),
		})
		return
	}
	if bad := g.issuersNotReady(); bad != nil {
		writeJSON(w, http.StatusOK, map[string]any{
			"status": "degraded", "reason": "external issuer keys unavailable: the identity provider is unreachable or its JWKS unusable; its tokens get 503 ISSUER_UNAVAILABLE",
			"issuers": bad,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// adminAuth requires Authorization: Bearer <token>.
func (g *Gateway) adminAuth(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The session API is off: set admin.token_file."})
			return
		}
		got, found, _ := session.BearerToken(r.Header)
		if !found || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			g.writeError(w, r, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "A valid admin token is required.", API: true})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminSession is a session as the admin API lists it.
type adminSession struct {
	ID          string    `json:"id"`
	User        string    `json:"user"`
	CreatedAt   time.Time `json:"created_at"`
	RefreshedAt time.Time `json:"refreshed_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	UserAgent   string    `json:"user_agent"`
	IP          string    `json:"ip"`
	Source      string    `json:"source"`
}

func (g *Gateway) adminListSessions(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if user == "" {
		g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "Give ?user=<subject>."})
		return
	}
	recs, err := g.sessions.ListUser(r.Context(), user)
	if err != nil {
		g.writeError(w, r, authError(err))
		return
	}
	out := make([]adminSession, 0, len(recs))
	for _, rec := range recs {
		out = append(out, adminSession{
			ID: rec.ID, User: rec.Identity.Subject, CreatedAt: rec.CreatedAt, RefreshedAt: rec.RefreshedAt,
			ExpiresAt: rec.Deadline(), UserAgent: rec.UserAgent, IP: rec.IP, Source: rec.Source,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// revokeRequest names exactly one thing to revoke.
type revokeRequest struct {
	Session string `json:"session,omitempty"`
	User    string `json:"user,omitempty"`
	JTI     string `json:"jti,omitempty"`
}

func (g *Gateway) adminRevoke(w http.ResponseWriter, r *http.Request) {
	var req revokeRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	n := 0
	if err := dec.Decode(&req); err == nil {
		for _, v := range []string{req.Session, req.User, req.JTI} {
			if v != "" {
				n++
			}
		}
	}
	if n != 1 {
		g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Message: `Send exactly one of {"session": id}, {"user": subject} or {"jti": id}.`})
		return
	}
	var err error
	switch {
	case req.Session != "":
		err = g.sessions.Logout(r.Context(), req.Session)
	case req.User != "":
		err = g.sessions.LogoutUser(r.Context(), req.User)
	default:
		err = g.sessions.RevokeToken(r.Context(), req.JTI)
	}
	if err != nil {
		g.writeError(w, r, authError(err))
		return
	}
	g.log.Info("admin revocation", "session", req.Session, "user", req.User, "jti", req.JTI)
	writeJSON(w, http.StatusOK, map[string]any{"revoked": req})
}
