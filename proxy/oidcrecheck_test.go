package proxy

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
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
			f, err := o.fresh(context.Background(), tt.provider, tt.rec, log)
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
