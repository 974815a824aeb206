package session

import (
	"fmt"
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256", "HS256"} {
		b.Run(alg, func(b *testing.B) {
			tk := newTestTokens(b, newClock(), testKey(b, alg, "a"))
			raw, _, err := tk.Mint(testIdentity, "sess-1")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tk.Verify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMint(b *testing.B) {
	tk := newTestTokens(b, newClock(), testKey(b, "EdDSA", "a"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tk.Mint(testIdentity, "sess-1"); err != nil {
			b.Fatal(err)
		}
	}
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
// can cost before its signature is checked: a max-size payload of many
// distinct members, all of which are decoded.
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
