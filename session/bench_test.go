package session

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/benchbudget"
)

// verifyAllocBudget is the allocation budget of one Verify per algorithm
// (cache off): the decoded segments, the principal and its claims, plus
// what crypto needs (RSA and ECDSA allocate big numbers).
var verifyAllocBudget = map[string]float64{"EdDSA": 22, "ES256": 45, "RS256": 117, "HS256": 29}

// BenchmarkVerify is a full verification (a cache miss): parse, signature,
// claims. Compare with BenchmarkEd25519Floor for what the signature alone
// costs on this machine.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256", "HS256"} {
		b.Run(alg, func(b *testing.B) {
			tk := newTestTokens(b, newClock(), testKey(b, alg, "a"))
			raw, _, err := tk.Mint(testIdentity, "sess-1")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			done := benchbudget.Allocs(b, verifyAllocBudget[alg])
			for b.Loop() {
				if _, err := tk.Verify(raw); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
	}
}

// BenchmarkVerifyCacheHit is what a token seen before costs: the cache
// lookup plus the revocation check the Manager always makes.
func BenchmarkVerifyCacheHit(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256", "HS256"} {
		b.Run(alg, func(b *testing.B) {
			clock := newClock()
			tk := newTestTokens(b, clock, testKey(b, alg, "a"))
			raw, _, err := tk.Mint(testIdentity, "sess-1")
			if err != nil {
				b.Fatal(err)
			}
			cache := NewVerifyCache(4096, clock.Now)
			list := NewRevocations(clock.Now)
			p, err := tk.Verify(raw)
			if err != nil {
				b.Fatal(err)
			}
			cache.Put(tk.VerifierID(), raw, p, p.ExpiresAt)
			b.ReportAllocs()
			done := benchbudget.Allocs(b, 0)
			for b.Loop() {
				p, ok := cache.Get(tk.VerifierID(), raw)
				if !ok || list.Revoked(p) {
					b.Fatal("miss or revoked")
				}
			}
			done()
		})
	}
}

// BenchmarkEd25519Floor is crypto/ed25519.Verify alone on a token-sized
// message: the floor under BenchmarkVerify/EdDSA.
func BenchmarkEd25519Floor(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 400)
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}

func BenchmarkMint(b *testing.B) {
	tk := newTestTokens(b, newClock(), testKey(b, "EdDSA", "a"))
	b.ReportAllocs()
	done := benchbudget.Allocs(b, 66)
	for b.Loop() {
		if _, _, err := tk.Mint(testIdentity, "sess-1"); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkVerifyRejectUnknownKid measures the cost an attacker can
// impose with tokens naming no key of ours: the payload is never parsed.
func BenchmarkVerifyRejectUnknownKid(b *testing.B) {
	clock := newClock()
	tk := newTestTokens(b, clock, testKey(b, "EdDSA", "a"))
	other := testKey(b, "EdDSA", "b")
	raw := forge(mustJSON(b, goodHeader(other)), mustJSON(b, goodClaims(clock.Now())), signer(b, other))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Verify(raw); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkVerifyHostilePayload measures the worst a token naming our kid
// can cost: a max-size payload of many distinct members. It is checked to
// be well-formed JSON (a scan) and then the signature fails: the members
// are never decoded.
func BenchmarkVerifyHostilePayload(b *testing.B) {
	clock := newClock()
	k := testKey(b, "EdDSA", "a")
	tk := newTestTokens(b, clock, k)
	payload := []byte(`{"a":0`)
	for i := 0; len(payload) < 2900; i++ {
		payload = fmt.Appendf(payload, `,"k%d":[]`, i)
	}
	payload = append(payload, '}')
	raw := forge(mustJSON(b, goodHeader(k)), string(payload), signer(b, testKey(b, "EdDSA", "b")))
	if len(raw) > 4096 {
		b.Fatalf("token is %d bytes", len(raw))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Verify(raw); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkRevoked is the revocation lookup every verified request makes,
// against a list holding 10,000 revoked sessions, users and tokens each.
func BenchmarkRevoked(b *testing.B) {
	clock := newClock()
	list := NewRevocations(clock.Now)
	until := clock.Now().Add(time.Hour)
	for i := range 10_000 {
		list.RevokeSession(fmt.Sprintf("sess-%d", i), until)
		list.RevokeToken(fmt.Sprintf("jti-%d", i), until)
		list.RevokeUser(fmt.Sprintf("user-%d", i), clock.Now(), until)
	}
	p := &Principal{Identity: Identity{Subject: "someone"}, SessionID: "live", TokenID: "t", IssuedAt: clock.Now()}
	b.ReportAllocs()
	done := benchbudget.Allocs(b, 0)
	for b.Loop() {
		if list.Revoked(p) {
			b.Fatal("revoked")
		}
	}
	done()
}
