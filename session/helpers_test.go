package session

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

// t0 is the fixed start of every test clock.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testClock is a clock tests move by hand instead of sleeping.
type testClock struct{ now time.Time }

func newClock() *testClock                   { return &testClock{now: t0} }
func (c *testClock) Now() time.Time          { return c.now }
func (c *testClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// generated caches one generated key per algorithm: RSA 3072 generation
// takes a while, and tests only need distinct keys per role.
var generated sync.Map // alg+role -> *Key

// testKey returns a generated key for alg, the same one for the same role.
func testKey(t testing.TB, alg, role string) *Key {
	t.Helper()
	if alg == algHS256 {
		k, err := newHMACKey([]byte("0123456789abcdef0123456789abcdef-"+role), "hs-"+role)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k, ok := generated.Load(alg + "/" + role); ok {
		return k.(*Key)
	}
	k, err := GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := generated.LoadOrStore(alg+"/"+role, k)
	return actual.(*Key)
}

// fixedEdKey is a deterministic Ed25519 key, for fuzz seeds that must
// verify across runs.
func fixedEdKey(t testing.TB) *Key {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	k, err := newAsymmetricKey(priv.Public(), priv, "fixed", "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// publicOnly returns a verify-only copy of k.
func publicOnly(t testing.TB, k *Key) *Key {
	t.Helper()
	pub, err := newAsymmetricKey(k.public, nil, k.id, k.alg)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// testTokensConfig is the token configuration tests start from.
func testTokensConfig() config.Tokens {
	return config.Tokens{
		Issuer:        "https://gate.example",
		Audience:      "app",
		AccessTTL:     5 * time.Minute,
		Leeway:        30 * time.Second,
		MaxTokenBytes: 4096,
		Claims:        []string{"tenant", "email_verified"},
	}
}

// newTestTokens builds Tokens signing with signer, also verifying with
// extra, on clock.
func newTestTokens(t testing.TB, clock *testClock, signer *Key, extra ...*Key) *Tokens {
	t.Helper()
	ks, err := NewKeySet(append([]*Key{signer}, extra...), signer.ID())
	if err != nil {
		t.Fatal(err)
	}
	tk, err := NewTokens(testTokensConfig(), ks, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// forge builds a compact JWS by hand from raw header and payload JSON,
// signing with sign (which gets the signing input) unless sign is nil,
// in which case the signature part is empty.
func forge(header, payload string, sign func(input string) []byte) string {
	input := b64(header) + "." + b64(payload)
	if sign == nil {
		return input + "."
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sign(input))
}

// signer returns a forge signing function for k (its own algorithm).
func signer(t testing.TB, k *Key) func(string) []byte {
	return func(input string) []byte {
		sig, err := k.method.Sign(input, k.signingKey())
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

// goodHeader is a valid header for k.
func goodHeader(k *Key) map[string]any {
	return map[string]any{"alg": k.alg, "kid": k.id, "typ": "at+jwt"}
}

// goodClaims is a valid payload at now for testTokensConfig.
func goodClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":   "https://gate.example",
		"aud":   "app",
		"sub":   "user-1",
		"sid":   "sess-1",
		"jti":   "jti-1",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(5 * time.Minute).Unix(),
		"email": "u@example.com",
		"roles": []string{"admin"},
	}
}
