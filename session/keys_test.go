package session

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func publicPEM(t *testing.T, k *Key) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.public)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PUBLIC KEY", der)
}

func TestGenerateKeyRoundTrip(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg, "a")
			if k.Alg() != alg {
				t.Fatalf("Alg() = %q, want %q", k.Alg(), alg)
			}
			if k.ID() != k.jwk.thumbprint() {
				t.Fatalf("ID() = %q, want the thumbprint %q", k.ID(), k.jwk.thumbprint())
			}
			pemText, err := k.PrivatePEM()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pemText, []byte("-----BEGIN PRIVATE KEY-----")) {
				t.Fatalf("PrivatePEM is not PKCS#8:\n%s", pemText)
			}
			back, err := ParseKey(config.Key{PrivateKey: string(pemText)})
			if err != nil {
				t.Fatal(err)
			}
			if back.ID() != k.ID() || back.Alg() != alg || !back.canSign() {
				t.Fatalf("round trip gave %v (can sign %v), want %v", back, back.canSign(), k)
			}
			pub, err := ParseKey(config.Key{PublicKey: publicPEM(t, k)})
			if err != nil {
				t.Fatal(err)
			}
			if pub.ID() != k.ID() || pub.Alg() != alg || pub.canSign() {
				t.Fatalf("public key gave %v (can sign %v), want verify-only %v", pub, pub.canSign(), k)
			}
			if _, err := pub.PrivatePEM(); err == nil {
				t.Fatal("PrivatePEM of a public key succeeded")
			}
		})
	}
}

func TestGenerateKeyRejectsOtherAlgs(t *testing.T) {
	for _, alg := range []string{"", "HS256", "ES384", "none", "eddsa"} {
		if _, err := GenerateKey(alg); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", alg)
		}
	}
}

func TestParseKeyLegacyPEM(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := testKey(t, "RS256", "a").private.(*rsa.PrivateKey)
	ecKey, err := newAsymmetricKey(ec.Public(), ec, "", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pem     string
		alg     string
		wantKID string
	}{
		{"SEC1 EC PRIVATE KEY", pemBlock("EC PRIVATE KEY", sec1), "ES256", ecKey.ID()},
		{"PKCS1 RSA PRIVATE KEY", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), "RS256", testKey(t, "RS256", "a").ID()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(config.Key{PrivateKey: tt.pem})
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg() != tt.alg || k.ID() != tt.wantKID || !k.canSign() {
				t.Fatalf("got %v, want alg %s kid %s", k, tt.alg, tt.wantKID)
			}
		})
	}
	t.Run("PKCS1 RSA PUBLIC KEY", func(t *testing.T) {
		k, err := ParseKey(config.Key{PublicKey: pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))})
		if err != nil {
			t.Fatal(err)
		}
		if k.canSign() || k.Alg() != "RS256" {
			t.Fatalf("got %v", k)
		}
	})
	t.Run("explicit kid", func(t *testing.T) {
		k, err := ParseKey(config.Key{ID: "2030-01", PrivateKey: pemBlock("EC PRIVATE KEY", sec1), Alg: "ES256"})
		if err != nil {
			t.Fatal(err)
		}
		if k.ID() != "2030-01" {
			t.Fatalf("kid %q", k.ID())
		}
	})
}

func TestParseKeyRejects(t *testing.T) {
	ed := testKey(t, "EdDSA", "a")
	edPEM, _ := ed.PrivatePEM()
	es := testKey(t, "ES256", "a")
	esPEM, _ := es.PrivatePEM()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	secret := strings.Repeat("s", 32)

	tests := []struct {
		name      string
		key       config.Key
		wantField string // keyProblem.field
	}{
		{"ES256 with an Ed25519 key", config.Key{Alg: "ES256", PrivateKey: string(edPEM)}, "alg"},
		{"EdDSA with a P-256 public key", config.Key{Alg: "EdDSA", PublicKey: publicPEM(t, es)}, "alg"},
		{"RS256 with an Ed25519 key", config.Key{Alg: "RS256", PrivateKey: string(edPEM)}, "alg"},
		{"ES256 with P-384", config.Key{Alg: "ES256", PrivateKey: pemBlock("PRIVATE KEY", p384DER)}, ""},
		{"P-384 inferred", config.Key{PrivateKey: pemBlock("PRIVATE KEY", p384DER)}, ""},
		{"RSA 1024", config.Key{PrivateKey: pemBlock("PRIVATE KEY", smallDER)}, ""},
		{"HS256 with a PEM key", config.Key{Alg: "HS256", ID: "h", PrivateKey: string(edPEM)}, "alg"},
		{"secret without alg", config.Key{ID: "h", Secret: secret}, "alg"},
		{"secret with alg EdDSA", config.Key{ID: "h", Alg: "EdDSA", Secret: secret}, "alg"},
		{"short secret", config.Key{ID: "h", Alg: "HS256", Secret: "short"}, ""},
		{"secret without kid", config.Key{Alg: "HS256", Secret: secret}, "kid"},
		{"secret and PEM", config.Key{ID: "h", Alg: "HS256", Secret: secret, PrivateKey: string(edPEM)}, ""},
		{"unknown alg", config.Key{Alg: "PS256", PrivateKey: string(edPEM)}, "alg"},
		{"lower-case alg", config.Key{Alg: "eddsa", PrivateKey: string(edPEM)}, "alg"},
		{"nothing", config.Key{}, ""},
		{"not PEM", config.Key{PrivateKey: "hello"}, ""},
		{"two PEM blocks", config.Key{PrivateKey: string(edPEM) + string(esPEM)}, ""},
		{"public key as private", config.Key{PrivateKey: publicPEM(t, ed)}, ""},
		{"private key as public", config.Key{PublicKey: string(edPEM)}, ""},
		{"encrypted", config.Key{PrivateKey: pemBlock("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3})}, ""},
		{"garbage DER", config.Key{PrivateKey: pemBlock("PRIVATE KEY", []byte{1, 2, 3})}, ""},
		{"certificate", config.Key{PublicKey: pemBlock("CERTIFICATE", []byte{1, 2, 3})}, ""},
		{"public half of another key", config.Key{PrivateKey: string(edPEM), PublicKey: publicPEM(t, testKey(t, "EdDSA", "b"))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.key)
			if err == nil {
				t.Fatalf("ParseKey succeeded: %v", k)
			}
			fes := keyFieldErrors("keys[0]", err)
			want := "keys[0]"
			if tt.wantField != "" {
				want += "." + tt.wantField
			}
			if fes[0].(*config.FieldError).Field != want {
				t.Fatalf("field = %q, want %q (err: %v)", fes[0].(*config.FieldError).Field, want, err)
			}
			if fes[0].(*config.FieldError).Fix == "" {
				t.Fatalf("no fix in %v", err)
			}
		})
	}

	t.Run("private and matching public", func(t *testing.T) {
		k, err := ParseKey(config.Key{PrivateKey: string(edPEM), PublicKey: publicPEM(t, ed)})
		if err != nil || k.ID() != ed.ID() {
			t.Fatalf("got %v, %v", k, err)
		}
	})
}

func TestLoadKeySet(t *testing.T) {
	ed := testKey(t, "EdDSA", "a")
	edPEM, _ := ed.PrivatePEM()
	es := testKey(t, "ES256", "a")
	esPEM, _ := es.PrivatePEM()
	secret := strings.Repeat("k", 40)

	t.Run("signer defaults to first private key", func(t *testing.T) {
		ks, err := LoadKeySet([]config.Key{
			{PublicKey: publicPEM(t, es)},
			{PrivateKey: string(edPEM)},
			{ID: "hs", Alg: "HS256", Secret: secret},
		}, "")
		if err != nil {
			t.Fatal(err)
		}
		if ks.Signer().ID() != ed.ID() {
			t.Fatalf("signer %v, want %v", ks.Signer(), ed)
		}
	})
	t.Run("signing_key picks the signer", func(t *testing.T) {
		ks, err := LoadKeySet([]config.Key{{PrivateKey: string(edPEM)}, {PrivateKey: string(esPEM)}}, es.ID())
		if err != nil {
			t.Fatal(err)
		}
		if ks.Signer().ID() != es.ID() {
			t.Fatalf("signer %v, want %v", ks.Signer(), es)
		}
	})

	tests := []struct {
		name       string
		keys       []config.Key
		signingKID string
		wantFields []string
	}{
		{"no keys", nil, "", []string{"keys"}},
		{"only public keys", []config.Key{{PublicKey: publicPEM(t, ed)}}, "", []string{"keys"}},
		{"unknown signing_key", []config.Key{{PrivateKey: string(edPEM)}}, "nope", []string{"tokens.signing_key"}},
		{"signing_key is public", []config.Key{{PrivateKey: string(esPEM)}, {PublicKey: publicPEM(t, ed)}}, ed.ID(), []string{"tokens.signing_key"}},
		{"duplicate thumbprint", []config.Key{{PrivateKey: string(edPEM)}, {PublicKey: publicPEM(t, ed)}}, "", []string{"keys[1]"}},
		{"duplicate explicit kid", []config.Key{{ID: "x", PrivateKey: string(edPEM)}, {ID: "x", PrivateKey: string(esPEM)}}, "", []string{"keys[1].kid"}},
		{
			"every problem at once",
			[]config.Key{
				{PrivateKey: string(edPEM)},
				{Alg: "ES256", PrivateKey: string(edPEM)},
				{PrivateKey: "junk"},
				{ID: "hs", Alg: "HS256", Secret: "short"},
				{PublicKey: publicPEM(t, ed)},
			},
			"",
			[]string{"keys[1].alg", "keys[2]", "keys[3]", "keys[4]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := LoadKeySet(tt.keys, tt.signingKID)
			if err == nil {
				t.Fatalf("LoadKeySet succeeded: signer %v", ks.Signer())
			}
			var got []string
			for _, fe := range config.FieldErrors(err) {
				got = append(got, fe.Field)
				if fe.Fix == "" {
					t.Errorf("%s: no fix", fe.Field)
				}
			}
			if !slices.Equal(got, tt.wantFields) {
				t.Fatalf("fields %q, want %q\n%v", got, tt.wantFields, err)
			}
		})
	}
}

func TestNewKeySet(t *testing.T) {
	ed := testKey(t, "EdDSA", "a")
	if _, err := NewKeySet([]*Key{publicOnly(t, ed)}, ""); err == nil {
		t.Error("a set of public keys can sign")
	}
	if _, err := NewKeySet([]*Key{ed, nil}, ""); err == nil {
		t.Error("nil key accepted")
	}
	if _, err := NewKeySet([]*Key{testKey(t, "ES256", "a"), publicOnly(t, ed)}, ed.ID()); err == nil {
		t.Error("verify-only key accepted as signer")
	}
}

func TestJWKS(t *testing.T) {
	ed, es, rs := testKey(t, "EdDSA", "a"), testKey(t, "ES256", "a"), testKey(t, "RS256", "a")
	hs := testKey(t, "HS256", "a")
	ks, err := NewKeySet([]*Key{hs, ed, publicOnly(t, es), rs}, "")
	if err != nil {
		t.Fatal(err)
	}
	if ks.Signer() != hs {
		t.Fatalf("signer %v", ks.Signer())
	}
	raw := ks.JWKS()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if len(doc.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3 (no HS256):\n%s", len(doc.Keys), raw)
	}
	for _, forbidden := range []string{`"d"`, `"k"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, hs.ID(), "0123456789abcdef"} {
		if bytes.Contains(raw, []byte(forbidden)) {
			t.Errorf("JWKS contains %s:\n%s", forbidden, raw)
		}
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := []*Key{ed, es, rs}
	for i, j := range doc.Keys {
		k := want[i]
		if j["kid"] != k.ID() || j["alg"] != k.Alg() || j["use"] != "sig" {
			t.Errorf("key %d: kid/alg/use = %q/%q/%q, want %q/%q/sig", i, j["kid"], j["alg"], j["use"], k.ID(), k.Alg())
		}
		var pub any
		switch j["kty"] {
		case "OKP":
			if j["crv"] != "Ed25519" {
				t.Errorf("crv %q", j["crv"])
			}
			pub = ed25519.PublicKey(dec(j["x"]))
		case "EC":
			if j["crv"] != "P-256" {
				t.Errorf("crv %q", j["crv"])
			}
			p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, dec(j["x"])...), dec(j["y"])...))
			if err != nil {
				t.Fatal(err)
			}
			pub = p
		case "RSA":
			pub = &rsa.PublicKey{N: new(big.Int).SetBytes(dec(j["n"])), E: int(new(big.Int).SetBytes(dec(j["e"])).Int64())}
		default:
			t.Fatalf("kty %q", j["kty"])
		}
		if !k.public.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
			t.Errorf("key %d (%s) does not round-trip through the JWKS", i, j["kty"])
		}
	}
	raw[0] = 'X'
	if ks.JWKS()[0] != '{' {
		t.Error("JWKS returned its internal buffer")
	}
}

func TestThumbprintRFCVectors(t *testing.T) {
	// RFC 7638 section 3.1.
	n, _ := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	rsaJWK, err := publicJWK(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rsaJWK.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("RSA thumbprint %s, want %s", got, want)
	}
	// RFC 8037 appendix A.3.
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	edJWK, err := publicJWK(ed25519.PublicKey(x))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := edJWK.thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("Ed25519 thumbprint %s, want %s", got, want)
	}
}

func TestKeyRedaction(t *testing.T) {
	ed := testKey(t, "EdDSA", "a")
	edPEM, _ := ed.PrivatePEM()
	seed := base64.StdEncoding.EncodeToString(ed.private.(ed25519.PrivateKey).Seed())
	hs := testKey(t, "HS256", "a")
	for _, k := range []*Key{ed, hs} {
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k)
		out := fmt.Sprintf("%v %+v %#v %s %d %x %q", k, k, k, k, k, k, k) + logged.String()
		for _, secret := range []string{string(hs.secret), "0123456789abcdef", seed, string(edPEM[40:80])} {
			if strings.Contains(out, secret) {
				t.Errorf("%s leaks %q:\n%s", k.ID(), secret, out)
			}
		}
		if !strings.Contains(out, k.ID()) || !strings.Contains(logged.String(), `"alg":"`+k.Alg()+`"`) {
			t.Errorf("output lacks kid/alg:\n%s", out)
		}
	}
}
