package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// TestKeyAccepts: a key verifies only the algorithms its type (and its
// alg member, when it has one) allows: no RSA key for ES256, no P-256 key
// for ES384, no Ed25519 key for anything but EdDSA.
func TestKeyAccepts(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		key  Key
		alg  string
		want bool
	}{
		{Key{Public: &rsaKey.PublicKey}, "RS256", true},
		{Key{Public: &rsaKey.PublicKey}, "PS384", true},
		{Key{Public: &rsaKey.PublicKey}, "ES256", false},
		{Key{Public: &rsaKey.PublicKey, Alg: "RS256"}, "RS512", false},
		{Key{Public: &p256.PublicKey, Alg: "ES256"}, "ES256", true},
		{Key{Public: &p256.PublicKey}, "ES384", false},
		{Key{Public: &p384.PublicKey}, "ES384", true},
		{Key{Public: &p256.PublicKey}, "RS256", false},
		{Key{Public: edPub, Alg: "EdDSA"}, "EdDSA", true},
		{Key{Public: edPub}, "ES256", false},
		{Key{Public: &p256.PublicKey}, "none", false},
		{Key{Public: &p256.PublicKey}, "HS256", false},
	} {
		if got := tc.key.Accepts(tc.alg); got != tc.want {
			t.Errorf("%s key accepts %s = %v, want %v", tc.key.Kind(), tc.alg, got, tc.want)
		}
	}
}
