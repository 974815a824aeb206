package session

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/gatehouse/gatehouse/config"
)

// ParseKey builds a Key from resolved configuration material (config.Load
// has already read the *_file fields):
//
//   - PrivateKey: a PEM PKCS#8 "PRIVATE KEY", SEC 1 "EC PRIVATE KEY" or
//     PKCS#1 "RSA PRIVATE KEY" (unencrypted); the key signs and verifies.
//     If PublicKey is also set it must be the same key's public half.
//   - PublicKey: a PEM PKIX "PUBLIC KEY" (or PKCS#1 "RSA PUBLIC KEY");
//     the key only verifies.
//   - Secret: an HS256 shared secret of at least 32 bytes; Alg must be
//     HS256 and ID must be set.
//
// The algorithm is inferred from the key type when c.Alg is empty
// (Ed25519 -> EdDSA, P-256 -> ES256, RSA >= 2048 bits -> RS256); a c.Alg
// that does not fit the key is an error. The kid is c.ID, or the RFC 7638
// thumbprint of the public key.
func ParseKey(c config.Key) (*Key, error) {
	hasPriv, hasPub, hasSecret := c.PrivateKey != "", c.PublicKey != "", c.Secret != ""
	switch {
	case hasSecret && (hasPriv || hasPub):
		return nil, &keyProblem{
			problem: "both a secret and a PEM key are set",
			fix:     "set either secret (HS256) or private_key/public_key, not both",
		}
	case hasSecret:
		if c.Alg != algHS256 {
			return nil, &keyProblem{
				field:   "alg",
				problem: fmt.Sprintf("a secret needs alg: HS256, not %q", c.Alg),
				fix:     "set alg: HS256, or use an asymmetric key (EdDSA recommended)",
			}
		}
		return newHMACKey([]byte(c.Secret), c.ID)
	case c.Alg == algHS256:
		return nil, &keyProblem{
			field:   "alg",
			problem: "alg HS256 needs a secret, not a PEM key",
			fix:     "set secret (or secret_file), or remove alg to infer it from the PEM key",
		}
	case c.Alg != "" && c.Alg != algEdDSA && c.Alg != algES256 && c.Alg != algRS256:
		return nil, &keyProblem{
			field:   "alg",
			problem: fmt.Sprintf("unsupported alg %q", c.Alg),
			fix:     "use EdDSA, ES256, RS256 or HS256, or leave alg empty to infer it",
		}
	case hasPriv:
		priv, err := parsePrivatePEM([]byte(c.PrivateKey))
		if err != nil {
			return nil, err
		}
		if hasPub {
			pub, err := parsePublicPEM([]byte(c.PublicKey))
			if err != nil {
				return nil, err
			}
			if eq, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
				return nil, &keyProblem{
					problem: "public_key is not the public half of private_key",
					fix:     "remove public_key (it is derived from private_key) or set the matching one",
				}
			}
		}
		return newAsymmetricKey(priv.Public(), priv, c.ID, c.Alg)
	case hasPub:
		pub, err := parsePublicPEM([]byte(c.PublicKey))
		if err != nil {
			return nil, err
		}
		return newAsymmetricKey(pub, nil, c.ID, c.Alg)
	default:
		return nil, &keyProblem{
			problem: "no key material",
			fix:     "set private_key_file (signs and verifies), public_key_file (verifies) or, for HS256, secret_file",
		}
	}
}

// decodeOnePEM returns the single PEM block in data, refusing trailing
// non-whitespace (a second key would otherwise be silently ignored) and
// encrypted blocks.
func decodeOnePEM(data []byte, what string) (*pem.Block, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, &keyProblem{
			problem: what + " is not PEM",
			fix:     "provide a PEM block (-----BEGIN ...-----), e.g. from gateway keygen",
		}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, &keyProblem{
			problem: what + " has data after the first PEM block",
			fix:     "put exactly one key in each key entry",
		}
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, &keyProblem{
			problem: what + " is encrypted",
			fix:     "decrypt it (openssl pkey -in enc.pem -out key.pem) and protect the file with permissions instead",
		}
	}
	return block, nil
}

// parsePrivatePEM parses a PKCS#8, SEC 1 or PKCS#1 private key.
func parsePrivatePEM(data []byte) (crypto.Signer, error) {
	block, err := decodeOnePEM(data, "private_key")
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, &keyProblem{
			problem: "private_key holds a public key",
			fix:     "move it to public_key (public_key_file): a public key can only verify",
		}
	default:
		return nil, &keyProblem{
			problem: fmt.Sprintf("private_key has unsupported PEM type %q", block.Type),
			fix:     `use a "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" or "RSA PRIVATE KEY" block`,
		}
	}
	if err != nil {
		return nil, &keyProblem{
			problem: fmt.Sprintf("private_key %q block does not parse", block.Type),
			fix:     "regenerate the key (gateway keygen)",
			err:     err,
		}
	}
	if _, ok := key.(*ecdh.PrivateKey); ok {
		return nil, &keyProblem{
			problem: "private_key is an X25519 (ECDH) key, which cannot sign",
			fix:     "use an Ed25519 key for EdDSA",
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, &keyProblem{
			problem: fmt.Sprintf("unsupported private key type %T", key),
			fix:     "use an Ed25519, P-256 or RSA key",
		}
	}
	return signer, nil
}

// parsePublicPEM parses a PKIX (or PKCS#1 RSA) public key.
func parsePublicPEM(data []byte) (crypto.PublicKey, error) {
	block, err := decodeOnePEM(data, "public_key")
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, &keyProblem{
			problem: "public_key holds a private key",
			fix:     "move it to private_key (private_key_file), or export the public half (openssl pkey -pubout)",
		}
	default:
		return nil, &keyProblem{
			problem: fmt.Sprintf("public_key has unsupported PEM type %q", block.Type),
			fix:     `use a "PUBLIC KEY" (PKIX) block`,
		}
	}
	if err != nil {
		return nil, &keyProblem{
			problem: fmt.Sprintf("public_key %q block does not parse", block.Type),
			fix:     "export it again (openssl pkey -pubout)",
			err:     err,
		}
	}
	return key, nil
}
