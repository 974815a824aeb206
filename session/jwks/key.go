package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Key is one verification key from a JWKS.
type Key struct {
	// ID is the kid; it may be empty in a set with one key.
	ID string
	// Alg is the key's alg member, or the only algorithm its type allows
	// (ES256 for P-256, ES384 for P-384, EdDSA for Ed25519). Empty for an
	// RSA key without alg: any RSA algorithm the issuer accepts.
	Alg string
	// Public is an *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	Public crypto.PublicKey
}

// Accepts reports whether k may verify a signature made with alg: its
// alg member, if it has one, is alg, and it is a key of the type alg
// needs (RSA for RS*/PS*, the matching curve for ES256/ES384, Ed25519 for
// EdDSA). Every verifier of tokens signed with JWKS keys asks it.
func (k Key) Accepts(alg string) bool {
	if k.Alg != "" && k.Alg != alg {
		return false
	}
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return (alg == "ES256" && pub.Curve.Params().Name == "P-256") || (alg == "ES384" && pub.Curve.Params().Name == "P-384")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// Kind names the key for an error message: its alg, else its Go type.
func (k Key) Kind() string {
	if k.Alg != "" {
		return k.Alg
	}
	return fmt.Sprintf("%T", k.Public)
}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 section
// 3.3 requires 2048 bits for RS256).
const minRSABits = 2048

// rsaAlgs are the algorithms an RSA key may name.
var rsaAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// rawJWK is a JWK as published; private members are never read.
type rawJWK struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// errSkipped marks a key that is ignored by rule (oct, use, alg), as
// opposed to one that is broken.
var errSkipped = errors.New("ignored")

// parseKey turns one JWK into a Key. It returns an error wrapping
// errSkipped for keys that are ignored by rule, and another error for keys
// that are broken.
func parseKey(j rawJWK) (Key, error) {
	if j.Use != "" && j.Use != "sig" {
		return Key{}, fmt.Errorf("%w: use %q", errSkipped, j.Use)
	}
	if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
		return Key{}, fmt.Errorf("%w: key_ops without verify", errSkipped)
	}
	k := Key{ID: j.Kid, Alg: j.Alg}
	switch j.Kty {
	case "RSA":
		if j.Alg != "" && !slices.Contains(rsaAlgs, j.Alg) {
			return Key{}, fmt.Errorf("%w: alg %q for an RSA key", errSkipped, j.Alg)
		}
		n, err1 := b64(j.N)
		e, err2 := b64(j.E)
		if err := errors.Join(err1, err2); err != nil {
			return Key{}, fmt.Errorf("RSA key: %w", err)
		}
		if len(e) == 0 || len(e) > 4 || len(n) == 0 || n[0] == 0 {
			return Key{}, errors.New("RSA key: bad n or e")
		}
		ev := new(big.Int).SetBytes(e)
		if !ev.IsInt64() || ev.Int64() < 3 || ev.Int64() > 1<<31-1 || ev.Bit(0) == 0 {
			return Key{}, errors.New("RSA key: bad exponent")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}
		if pub.N.BitLen() < minRSABits {
			return Key{}, fmt.Errorf("RSA key: %d bits, fewer than %d", pub.N.BitLen(), minRSABits)
		}
		k.Public = pub
	case "EC":
		var curve elliptic.Curve
		var alg string
		switch j.Crv {
		case "P-256":
			curve, alg = elliptic.P256(), "ES256"
		case "P-384":
			curve, alg = elliptic.P384(), "ES384"
		default:
			return Key{}, fmt.Errorf("%w: EC curve %q", errSkipped, j.Crv)
		}
		if j.Alg != "" && j.Alg != alg {
			return Key{}, fmt.Errorf("%w: alg %q for curve %s", errSkipped, j.Alg, j.Crv)
		}
		x, err1 := b64(j.X)
		y, err2 := b64(j.Y)
		if err := errors.Join(err1, err2); err != nil {
			return Key{}, fmt.Errorf("EC key: %w", err)
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return Key{}, fmt.Errorf("EC key: coordinates are not %d bytes", size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, slices.Concat([]byte{4}, x, y))
		if err != nil {
			return Key{}, fmt.Errorf("EC key: %w", err)
		}
		k.Public, k.Alg = pub, alg
	case "OKP":
		if j.Crv != "Ed25519" {
			return Key{}, fmt.Errorf("%w: OKP curve %q", errSkipped, j.Crv)
		}
		if j.Alg != "" && j.Alg != "EdDSA" && j.Alg != "Ed25519" {
			return Key{}, fmt.Errorf("%w: alg %q for an Ed25519 key", errSkipped, j.Alg)
		}
		x, err := b64(j.X)
		if err != nil {
			return Key{}, fmt.Errorf("Ed25519 key: %w", err)
		}
		if len(x) != ed25519.PublicKeySize {
			return Key{}, errors.New("Ed25519 key: x is not 32 bytes")
		}
		k.Public, k.Alg = ed25519.PublicKey(x), "EdDSA"
	default:
		// "oct" (a shared secret) above all: it must never verify
		// anything, or a token signed with HS256 and the published
		// secret would pass.
		return Key{}, fmt.Errorf("%w: kty %q", errSkipped, j.Kty)
	}
	return k, nil
}

// b64 decodes unpadded base64url strictly.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// parsed is the outcome of parsing a JWKS body.
type parsed struct {
	keys    []Key
	skipped int // ignored by rule
	broken  int // malformed
}

// parseSet parses a JWKS document. A broken or ignored key is skipped, not
// fatal: one odd key must not take the issuer's other keys down. A repeated
// non-empty kid keeps only the first key of that kid.
func parseSet(body []byte) (parsed, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return parsed{}, fmt.Errorf("JWKS is not JSON: %w", err)
	}
	if doc.Keys == nil {
		return parsed{}, errors.New(`JWKS has no "keys" array`)
	}
	var p parsed
	seen := map[string]bool{}
	for _, raw := range doc.Keys {
		var j rawJWK
		if err := json.Unmarshal(raw, &j); err != nil {
			p.broken++
			continue
		}
		k, err := parseKey(j)
		switch {
		case errors.Is(err, errSkipped):
			p.skipped++
			continue
		case err != nil:
			p.broken++
			continue
		case k.ID != "" && seen[k.ID]:
			p.broken++
			continue
		}
		seen[k.ID] = k.ID != ""
		p.keys = append(p.keys, k)
	}
	return p, nil
}
