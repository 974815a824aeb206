package session

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"

	"github.com/golang-jwt/jwt/v5"
)

// The algorithms Gatehouse signs and verifies with. Each key has exactly
// one; a token's alg header must equal it (RFC 8725 section 3.1).
const (
	algEdDSA = "EdDSA"
	algES256 = "ES256"
	algRS256 = "RS256"
	algHS256 = "HS256"
)

const (
	// generatedRSABits is the size GenerateKey uses for RS256 (NIST SP
	// 800-57: 3072 bits for security beyond 2030).
	generatedRSABits = 3072
	// minRSABits is the smallest RSA modulus ParseKey accepts
	// (RFC 7518 section 3.3: 2048 bits or larger MUST be used).
	minRSABits = 2048
	// minHMACSecret is the shortest HS256 secret accepted (RFC 7518
	// section 3.2: a key of the same size as the hash output or larger).
	minHMACSecret = 32
)

// Key is one signing or verification key with its kid and algorithm.
//
// A Key made from private material (or an HS256 secret) can sign; one made
// from a public key only verifies. Its String, Format and LogValue show the
// kid and algorithm only: private material never reaches logs.
type Key struct {
	id     string
	alg    string
	method jwt.SigningMethod

	// public is ed25519.PublicKey, *ecdsa.PublicKey or *rsa.PublicKey;
	// nil for HS256.
	public crypto.PublicKey
	// private is ed25519.PrivateKey, *ecdsa.PrivateKey or *rsa.PrivateKey;
	// nil for a verify-only key and for HS256.
	private crypto.Signer
	// secret is the HS256 shared secret.
	secret []byte
	// jwk is the public JWK (nil for HS256), without kid/alg/use.
	jwk *jwk
}

// ID returns the key's kid.
func (k *Key) ID() string { return k.id }

// Alg returns the key's JWS algorithm: EdDSA, ES256, RS256 or HS256.
func (k *Key) Alg() string { return k.alg }

// canSign reports whether k holds private material (or an HS256 secret).
func (k *Key) canSign() bool { return k.private != nil || k.secret != nil }

// signingKey returns what jwt's SigningMethod.Sign expects for k.
func (k *Key) signingKey() any {
	if k.secret != nil {
		return k.secret
	}
	return k.private
}

// verificationKey returns what jwt's SigningMethod.Verify expects for k.
func (k *Key) verificationKey() any {
	if k.secret != nil {
		return k.secret
	}
	return k.public
}

// String returns "kid=... alg=...", never key material.
func (k *Key) String() string {
	if k == nil {
		return "<nil key>"
	}
	return fmt.Sprintf("kid=%q alg=%s", k.id, k.alg)
}

// Format implements fmt.Formatter so that every verb, including %#v and
// %+v, prints String and never the struct's private fields.
func (k *Key) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(k.String()))
}

// LogValue implements slog.LogValuer: the kid and the algorithm only.
func (k *Key) LogValue() slog.Value {
	if k == nil {
		return slog.StringValue("<nil key>")
	}
	return slog.GroupValue(slog.String("kid", k.id), slog.String("alg", k.alg))
}

// GenerateKey returns a new private key for alg: "EdDSA" (Ed25519), "ES256"
// (P-256) or "RS256" (RSA 3072). Its kid is the RFC 7638 thumbprint. HS256
// secrets are not generated here: they are shared with other parties and
// configured explicitly.
func GenerateKey(alg string) (*Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case algEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case algES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case algRS256:
		priv, err = rsa.GenerateKey(rand.Reader, generatedRSABits)
	default:
		return nil, fmt.Errorf("session: cannot generate a key for alg %q (want EdDSA, ES256 or RS256)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("session: generating %s key: %w", alg, err)
	}
	return newAsymmetricKey(priv.Public(), priv, "", alg)
}

// PrivatePEM returns the key's private material as a PKCS#8 "PRIVATE KEY"
// PEM block. It fails for verify-only keys and for HS256 secrets (which
// have no PEM form).
func (k *Key) PrivatePEM() ([]byte, error) {
	if k.private == nil {
		if k.secret != nil {
			return nil, fmt.Errorf("session: key %q is an HS256 secret and has no PEM form", k.id)
		}
		return nil, fmt.Errorf("session: key %q is public only (verify-only)", k.id)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, fmt.Errorf("session: encoding key %q: %w", k.id, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// newAsymmetricKey checks pub (and priv, if not nil) against alg (inferred
// when empty) and builds a Key whose kid is kid or the RFC 7638 thumbprint.
func newAsymmetricKey(pub crypto.PublicKey, priv crypto.Signer, kid, alg string) (*Key, error) {
	inferred, err := algForPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if alg == "" {
		alg = inferred
	} else if alg != inferred {
		return nil, &keyProblem{
			field:   "alg",
			problem: fmt.Sprintf("alg %s does not match the key, which is a %s key", alg, inferred),
			fix:     fmt.Sprintf("set alg: %s, or leave alg empty to infer it", inferred),
		}
	}
	j, err := publicJWK(pub)
	if err != nil {
		return nil, err
	}
	if kid == "" {
		kid = j.thumbprint()
	}
	return &Key{
		id:      kid,
		alg:     alg,
		method:  jwt.GetSigningMethod(alg),
		public:  pub,
		private: priv,
		jwk:     j,
	}, nil
}

// newHMACKey builds an HS256 key from a shared secret.
func newHMACKey(secret []byte, kid string) (*Key, error) {
	var errs []error
	if len(secret) < minHMACSecret {
		errs = append(errs, &keyProblem{
			problem: fmt.Sprintf("HS256 secret is %d bytes, shorter than %d", len(secret), minHMACSecret),
			fix:     "use at least 32 random bytes (openssl rand -base64 48)",
		})
	}
	if kid == "" {
		errs = append(errs, &keyProblem{
			field:   "kid",
			problem: "an HS256 key needs an explicit kid",
			fix:     "set kid: to a name for this secret (it appears in token headers)",
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Key{
		id:     kid,
		alg:    algHS256,
		method: jwt.SigningMethodHS256,
		secret: append([]byte(nil), secret...),
	}, nil
}

// algForPublicKey returns the one algorithm Gatehouse uses with pub, or a
// problem if the key type or size is not supported.
func algForPublicKey(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return algEdDSA, nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return "", &keyProblem{
				problem: fmt.Sprintf("EC curve %s is not supported (ES256 needs P-256)", p.Curve.Params().Name),
				fix:     "generate a P-256 key (gateway keygen --alg ES256) or use EdDSA",
			}
		}
		return algES256, nil
	case *rsa.PublicKey:
		if bits := p.N.BitLen(); bits < minRSABits {
			return "", &keyProblem{
				problem: fmt.Sprintf("RSA key is %d bits, smaller than %d", bits, minRSABits),
				fix:     "generate a 3072-bit key (gateway keygen --alg RS256) or use EdDSA",
			}
		}
		return algRS256, nil
	default:
		return "", &keyProblem{
			problem: fmt.Sprintf("unsupported key type %T", pub),
			fix:     "use an Ed25519, P-256 or RSA key",
		}
	}
}

// keyProblem is a problem with one configured key. LoadKeySet turns it into
// a *config.FieldError naming keys[i] (or keys[i].<field>).
type keyProblem struct {
	field   string // "", "alg" or "kid"
	problem string
	fix     string
	err     error
}

func (e *keyProblem) Error() string {
	s := "session: key"
	if e.field != "" {
		s += " " + e.field
	}
	s += ": " + e.problem
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *keyProblem) Unwrap() error { return e.err }
