package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"slices"
	"testing"
)

// FuzzParseSet: any JWKS body parses or fails cleanly, and every key kept
// is an asymmetric signature key with a public key.
func FuzzParseSet(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseSet(body)
		if err != nil {
			return
		}
		for _, k := range p.keys {
			switch pub := k.Public.(type) {
			case *rsa.PublicKey:
				if pub.N.BitLen() < minRSABits || (k.Alg != "" && !slices.Contains(rsaAlgs, k.Alg)) {
					t.Fatalf("RSA key %q kept: %d bits, alg %q", k.ID, pub.N.BitLen(), k.Alg)
				}
			case *ecdsa.PublicKey:
				if k.Alg != "ES256" && k.Alg != "ES384" {
					t.Fatalf("EC key %q kept with alg %q", k.ID, k.Alg)
				}
			case ed25519.PublicKey:
				if k.Alg != "EdDSA" {
					t.Fatalf("Ed25519 key %q kept with alg %q", k.ID, k.Alg)
				}
			default:
				t.Fatalf("key %q kept with type %T", k.ID, k.Public)
			}
		}
	})
}
