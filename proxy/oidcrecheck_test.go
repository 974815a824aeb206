package proxy

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/session"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/oauth2"
)

func TestSealer(t *testing.T) {
	s := newSealer(bytes.Repeat([]byte("k"), 32))
	sealed := s.seal("refresh-token-value", "oidc:idp\x00alice")
	if bytes.Contains(sealed, []byte("refresh-token-value")) {
		t.Fatal("the sealed value contains the plaintext")
	}
	if again := s.seal("refresh-token-value", "oidc:idp\x00alice"); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if got, err := s.open(sealed, "oidc:idp\x00alice"); err != nil || got != "refresh-token-value" {
		t.Fatalf("open = %q, %v", got, err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, tt := range map[string]struct {
		sealer *sealer
		value  []byte
		ad     string
	}{
		"another user":     {s, sealed, "oidc:idp\x00mallory"},
		"another provider": {s, sealed, "oidc:other\x00alice"},
		"another key":      {newSealer(bytes.Repeat([]byte("x"), 32)), sealed, "oidc:idp\x00alice"},
		"tampered":         {s, tampered, "oidc:idp\x00alice"},
		"truncated":        {s, sealed[:5], "oidc:idp\x00alice"},
	} {
		if _, err := tt.sealer.open(tt.value, tt.ad); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

func TestOIDCFreshDecisions(t *testing.T) {
	issuer, hits := brokenIdP(t)
	clock := &testClock{time.Unix(1_700_000_000, 0)}
	cfg := config.Default()
	withProvider("plain", issuer)(&cfg)
	withProvider("checked", issuer)(&cfg)
	cfg.OIDC.Providers[1].Recheck = true
	o, err := newOIDCLogins(&cfg, nil, bytes.Repeat([]byte("r"), 32), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	id := session.Identity{Subject: "alice", Roles: []string{"staff"}}
	checked := o.byName["checked"]
	sealed, err := checked.keepRefreshToken(&oauth2.Token{RefreshToken: "rt-1"}, "alice")
	if err != nil || len(sealed) == 0 {
		t.Fatalf("keepRefreshToken: %q, %v", sealed, err)
	}
	if _, err := checked.keepRefreshToken(&oauth2.Token{}, "alice"); !errors.Is(err, errTokenInvalid) {
		t.Errorf("recheck without a refresh token: %v, want errTokenInvalid", err)
	}
	if s, err := o.byName["plain"].keepRefreshToken(&oauth2.Token{RefreshToken: "rt"}, "alice"); s != nil || err != nil {
		t.Errorf("without recheck the refresh token is kept: %q, %v", s, err)
	}
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name     string
		provider string
		rec      session.Record
		revoked  bool  // the session ends
		asked    int64 // requests to the provider
	}{
		{"no recheck: identity kept", "plain", session.Record{Identity: id}, false, 0},
		{"provider removed from the configuration", "gone", session.Record{Identity: id}, true, 0},
		{"recheck without a kept token (older session): kept", "checked", session.Record{Identity: id}, false, 0},
		{"within the grace window: not asked again", "checked", session.Record{Identity: id, SourceSecret: sealed, PrevValidUntil: clock.t.Add(time.Second)}, false, 0},
		{"provider unavailable: kept", "checked", session.Record{Identity: id, SourceSecret: sealed}, false, 1},
		{"kept token unreadable (key changed): ended", "checked", session.Record{Identity: id, SourceSecret: []byte("garbage-garbage-garbage")}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			clock.t = clock.t.Add(time.Hour) // past any discovery backoff
			if tt.rec.PrevValidUntil.After(time.Time{}) {
				tt.rec.PrevValidUntil = clock.t.Add(time.Second)
			}
			f, err := o.fresh(context.Background(), tt.provider, tt.rec, log, nil)
			if tt.revoked {
				if !errors.Is(err, session.ErrSessionRevoked) {
					t.Fatalf("err = %v, want ErrSessionRevoked", err)
				}
			} else if err != nil || f.Identity.Subject != "alice" || len(f.SourceSecret) != 0 {
				t.Fatalf("fresh = %+v, %v; want the identity kept", f, err)
			}
			if got := hits.Load() - before; got != tt.asked {
				t.Errorf("%d requests to the provider, want %d", got, tt.asked)
			}
		})
	}
}

func TestOIDCSecretsNotLogged(t *testing.T) {
	cfg := config.Default()
	withProvider("idp", "https://idp.example.com")(&cfg)
	o, err := newOIDCLogins(&cfg, nil, bytes.Repeat([]byte("r"), 32), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "p", o.byName["idp"], "state", o.byName["idp"].state, "seal", o.seal)
	if bytes.Contains(buf.Bytes(), []byte("s3cret")) || bytes.Contains(buf.Bytes(), []byte("rrrr")) {
		t.Errorf("secrets in the log: %s", buf.String())
	}
	if !bytes.Contains(buf.Bytes(), []byte("oidc:idp")) {
		t.Errorf("the provider is not named: %s", buf.String())
	}
}

func TestAuthStyle(t *testing.T) {
	for _, tt := range []struct {
		methods []string
		want    oauth2.AuthStyle
	}{
		{nil, oauth2.AuthStyleInHeader},
		{[]string{"client_secret_basic", "client_secret_post"}, oauth2.AuthStyleInHeader},
		{[]string{"client_secret_post"}, oauth2.AuthStyleInParams},
		{[]string{"private_key_jwt", "client_secret_post"}, oauth2.AuthStyleInParams},
		{[]string{"private_key_jwt"}, oauth2.AuthStyleInHeader},
	} {
		if got := authStyle(tt.methods); got != tt.want {
			t.Errorf("authStyle(%q) = %v, want %v", tt.methods, got, tt.want)
		}
	}
}

// recheckIdP is a provider that is up: discovery and a token endpoint
// that redeems the refresh token "rt-good" (for client gatehouse, secret
// s3cret, as withProvider configures) and refuses any other with
// invalid_grant, as a provider does once the user is removed or the grant
// revoked. It answers no ID token, so the session keeps its identity.
func recheckIdP(t *testing.T) (issuer string, hits *atomic.Int64) {
	t.Helper()
	hits = &atomic.Int64{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if id, secret, ok := r.BasicAuth(); !ok || id != "gatehouse" || secret != "s3cret" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != "rt-good" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "refresh_token": "rt-good"})
	})
	return srv.URL, hits
}

// TestOIDCRecheckMetrics: each re-check at a provider increments
// gatehouse_oidc_recheck_total{provider, result} for its outcome, under
// the configured provider's name; answers that ask no provider count
// nothing.
func TestOIDCRecheckMetrics(t *testing.T) {
	up, upHits := recheckIdP(t)
	down, downHits := brokenIdP(t)
	clock := &testClock{time.Unix(1_700_000_000, 0)}
	cfg := config.Default()
	withProvider("good", up)(&cfg)
	withProvider("down", down)(&cfg)
	withProvider("plain", up)(&cfg)
	cfg.OIDC.Providers[0].Recheck = true
	cfg.OIDC.Providers[1].Recheck = true
	o, err := newOIDCLogins(&cfg, nil, bytes.Repeat([]byte("r"), 32), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.OIDCRecheckProviders(o.rechecking())
	me := &metricsEnv{reg: reg}
	if n := testutil.CollectAndCount(reg, "gatehouse_oidc_recheck_total"); n != 6 {
		t.Errorf("%d series at start, want 6 (good and down, three results each; plain has no recheck)", n)
	}

	seal := func(provider, rt string) []byte {
		s, err := o.byName[provider].keepRefreshToken(&oauth2.Token{RefreshToken: rt}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	id := session.Identity{Subject: "alice"}
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name     string
		provider string
		rec      session.Record
		revoked  bool
		asked    *atomic.Int64 // the provider that must have been asked, once
		counted  string        // the provider label counted; "" for none
		result   string
	}{
		{"the provider redeems the token: ok", "good", session.Record{Identity: id, SourceSecret: seal("good", "rt-good")}, false, upHits, "good", "ok"},
		{"the provider refuses the token: ended", "good", session.Record{Identity: id, SourceSecret: seal("good", "rt-revoked")}, true, upHits, "good", "ended"},
		{"the kept token is unreadable: ended", "good", session.Record{Identity: id, SourceSecret: []byte("garbage-garbage-garbage")}, true, nil, "good", "ended"},
		{"the provider is down: unavailable", "down", session.Record{Identity: id, SourceSecret: seal("down", "rt-good")}, false, downHits, "down", "unavailable"},
		{"no recheck: not counted", "plain", session.Record{Identity: id}, false, nil, "", ""},
		{"no kept token: not counted", "good", session.Record{Identity: id}, false, nil, "", ""},
		{"within the grace window: not counted", "good", session.Record{Identity: id, SourceSecret: seal("good", "rt-good"), PrevValidUntil: time.Unix(1, 0)}, false, nil, "", ""},
		{"provider no longer configured: not counted", "gone", session.Record{Identity: id, SourceSecret: seal("good", "rt-good")}, true, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.t = clock.t.Add(time.Hour) // past any discovery backoff
			if !tt.rec.PrevValidUntil.IsZero() {
				tt.rec.PrevValidUntil = clock.t.Add(time.Second)
			}
			var want []seriesDelta
			for _, p := range []string{"good", "down", "gone", "plain"} {
				for _, r := range []string{"ok", "ended", "unavailable"} {
					d := 0.0
					if p == tt.counted && r == tt.result {
						d = 1
					}
					want = append(want, series(d, "gatehouse_oidc_recheck_total", "provider", p, "result", r))
				}
			}
			asked := int64(0)
			if tt.asked != nil {
				asked = tt.asked.Load()
			}
			me.expectDelta(t, func() {
				_, err := o.fresh(context.Background(), tt.provider, tt.rec, log, m)
				if got := errors.Is(err, session.ErrSessionRevoked); got != tt.revoked {
					t.Errorf("session ended = %v (err %v), want %v", got, err, tt.revoked)
				}
			}, want...)
			if tt.asked != nil && tt.asked.Load() != asked+1 {
				t.Errorf("the provider was asked %d times, want once", tt.asked.Load()-asked)
			}
		})
	}
}
