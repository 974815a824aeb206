package session_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse/session"
)

// TestAssertionVerifiesIndependently checks assertions with go-jose, not
// our own code, against the published JWKS, for every key type.
func TestAssertionVerifiesIndependently(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			key, err := session.GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			ks, err := session.NewKeySet([]*session.Key{key}, "")
			if err != nil {
				t.Fatal(err)
			}
			a, err := session.NewAsserter(ks, "https://gate.example", 30*time.Second, []string{"department", "idp"}, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			p := &session.Principal{
				Identity:  session.Identity{Subject: "alice", Email: "a@example.com", Roles: []string{"admin"}, Claims: map[string]any{"department": "eng", "idp": "forged"}},
				SessionID: "s1", Issuer: "https://idp.example",
			}
			raw, err := a.Assert(p, "http://127.0.0.1:3000")
			if err != nil {
				t.Fatal(err)
			}

			var set jose.JSONWebKeySet
			if err := json.Unmarshal(ks.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			h := tok.Headers[0]
			if h.KeyID != key.ID() || h.ExtraHeaders["typ"] != session.AssertionType {
				t.Fatalf("header kid %q typ %v", h.KeyID, h.ExtraHeaders["typ"])
			}
			keys := set.Key(h.KeyID)
			if len(keys) != 1 {
				t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
			}
			var std josejwt.Claims
			var extra struct {
				SID        string   `json:"sid"`
				Email      string   `json:"email"`
				Roles      []string `json:"roles"`
				IdP        string   `json:"idp"`
				Department string   `json:"department"`
			}
			if err := tok.Claims(keys[0].Key, &std, &extra); err != nil {
				t.Fatalf("go-jose rejects the signature: %v", err)
			}
			err = std.ValidateWithLeeway(josejwt.Expected{Issuer: "https://gate.example", AnyAudience: josejwt.Audience{"http://127.0.0.1:3000"}, Time: now.Add(29 * time.Second)}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if std.Subject != "alice" || extra.SID != "s1" || extra.Email != "a@example.com" || len(extra.Roles) != 1 ||
				extra.IdP != "https://idp.example" || extra.Department != "eng" {
				t.Fatalf("claims %+v %+v", std, extra)
			}
			if std.Expiry.Time().Sub(std.IssuedAt.Time()) != 30*time.Second {
				t.Fatalf("lifetime %v", std.Expiry.Time().Sub(std.IssuedAt.Time()))
			}
			if err := std.ValidateWithLeeway(josejwt.Expected{Time: now.Add(31 * time.Second)}, 0); err == nil {
				t.Fatal("go-jose accepts the assertion after its exp")
			}
			if err := std.ValidateWithLeeway(josejwt.Expected{AnyAudience: josejwt.Audience{"http://other"}, Time: now}, 0); err == nil {
				t.Fatal("go-jose accepts the assertion for another audience")
			}
		})
	}
}

func TestAsserterRefusesHS256(t *testing.T) {
	k, err := session.ParseKey(configHS256())
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet([]*session.Key{k}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := session.NewAsserter(ks, "gatehouse", time.Second, nil, nil); err == nil {
		t.Fatal("an HS256 signer was accepted for assertions")
	}
}

func TestAssertionCache(t *testing.T) {
	key, _ := session.GenerateKey("EdDSA")
	ks, _ := session.NewKeySet([]*session.Key{key}, "")
	now := time.Now()
	a, _ := session.NewAsserter(ks, "gatehouse", 30*time.Second, nil, func() time.Time { return now })
	p := &session.Principal{Identity: session.Identity{Subject: "alice"}, TokenID: "j1"}
	first, _ := a.Assert(p, "aud")
	now = now.Add(14 * time.Second)
	if again, _ := a.Assert(p, "aud"); again != first {
		t.Error("same token and audience within half the ttl: a new assertion")
	}
	if other, _ := a.Assert(p, "aud2"); other == first {
		t.Error("another audience got the cached assertion")
	}
	q := *p
	q.TokenID = "j2"
	if other, _ := a.Assert(&q, "aud"); other == first {
		t.Error("another token got the cached assertion")
	}
	now = now.Add(time.Second)
	if again, _ := a.Assert(p, "aud"); again == first {
		t.Error("past half the ttl: the cached assertion was reused")
	}
}

// BenchmarkAssert is the per-request cost of the assertion header (one
// signature per proxied request with a principal).
func BenchmarkAssert(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			key, _ := session.GenerateKey(alg)
			ks, _ := session.NewKeySet([]*session.Key{key}, "")
			a, _ := session.NewAsserter(ks, "gatehouse", 30*time.Second, nil, nil)
			b.Run("sign", func(b *testing.B) {
				// A new token each time: no cache hit.
				p := &session.Principal{Identity: session.Identity{Subject: "alice", Roles: []string{"admin", "ops"}}, SessionID: "0123456789abcdef"}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := a.Assert(p, "http://127.0.0.1:3000"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("cached", func(b *testing.B) {
				p := &session.Principal{Identity: session.Identity{Subject: "alice", Roles: []string{"admin", "ops"}}, SessionID: "0123456789abcdef", TokenID: "jti-1"}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := a.Assert(p, "http://127.0.0.1:3000"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
