package session

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
)

// jwk is a public JSON Web Key (RFC 7517) as published in the JWKS. It has
// no field for private material (d, p, q, dp, dq, qi) or symmetric secrets
// (k), so none can be serialized by mistake.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// publicJWK returns the public JWK members of pub (kty, crv, x, y, n, e).
func publicJWK(pub crypto.PublicKey) (*jwk, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case ed25519.PublicKey:
		// RFC 8037 section 2.
		return &jwk{Kty: "OKP", Crv: "Ed25519", X: b64(p)}, nil
	case *ecdsa.PublicKey:
		// RFC 7518 section 6.2.1: x and y are the full-length (32 byte for
		// P-256) big-endian coordinates. Bytes is 0x04 || X || Y.
		pt, err := p.Bytes()
		if err != nil {
			return nil, &keyProblem{problem: "invalid EC public key", fix: "regenerate the key", err: err}
		}
		n := (len(pt) - 1) / 2
		return &jwk{Kty: "EC", Crv: p.Curve.Params().Name, X: b64(pt[1 : 1+n]), Y: b64(pt[1+n:])}, nil
	case *rsa.PublicKey:
		// RFC 7518 section 6.3.1: minimal big-endian n and e.
		return &jwk{Kty: "RSA", N: b64(p.N.Bytes()), E: b64(big.NewInt(int64(p.E)).Bytes())}, nil
	default:
		return nil, &keyProblem{problem: fmt.Sprintf("unsupported key type %T", pub), fix: "use an Ed25519, P-256 or RSA key"}
	}
}

// thumbprint returns the RFC 7638 JWK thumbprint: base64url(SHA-256) of the
// required members in lexicographic order with no whitespace. The member
// values are base64url or fixed names, so no JSON escaping is needed.
func (j *jwk) thumbprint() string {
	var canonical string
	switch j.Kty {
	case "OKP": // RFC 8037 section 2: crv, kty, x
		canonical = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	case "EC": // RFC 7638 section 3.2: crv, kty, x, y
		canonical = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "RSA": // e, kty, n
		canonical = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	}
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
