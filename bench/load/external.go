package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// extIssuer is the external identity provider of the external bearer
// rows: its iss, the audience the gateways accept, and the kids of its
// ES256 and RS256 keys.
const (
	extIssuer   = "http://idp.bench.test"
	extAudience = "bench-api"
)

// idp is an external issuer: ES256 and RS256 signing keys, and their
// JWKS served on loopback by the driver itself (it is fetched once per
// gateway at start, so its cost is outside the measured processes).
type idp struct {
	url  string // the JWKS URL
	keys map[string]crypto.Signer
	// forgers sign under the same kids with other keys.
	forgers map[string]crypto.Signer
	srv     *http.Server
}

// extAlgs maps each kid of the idp to its algorithm.
var extAlgs = map[string]string{"es": "ES256", "rs": "RS256"}

// startIdP generates the keys and serves the JWKS on a loopback port.
func startIdP() (*idp, error) {
	p := &idp{keys: map[string]crypto.Signer{}, forgers: map[string]crypto.Signer{}}
	var jwks []map[string]string
	b64 := base64.RawURLEncoding.EncodeToString
	for kid, alg := range extAlgs {
		for _, into := range []map[string]crypto.Signer{p.keys, p.forgers} {
			var err error
			if alg == "ES256" {
				into[kid], err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			} else {
				into[kid], err = rsa.GenerateKey(rand.Reader, 2048)
			}
			if err != nil {
				return nil, err
			}
		}
		switch k := p.keys[kid].(type) {
		case *ecdsa.PrivateKey:
			b, err := k.PublicKey.Bytes()
			if err != nil {
				return nil, err
			}
			jwks = append(jwks, map[string]string{"kty": "EC", "crv": "P-256", "kid": kid, "alg": alg, "use": "sig",
				"x": b64(b[1:33]), "y": b64(b[33:])})
		case *rsa.PrivateKey:
			jwks = append(jwks, map[string]string{"kty": "RSA", "kid": kid, "alg": alg, "use": "sig",
				"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
		}
	}
	body, err := json.Marshal(map[string]any{"keys": jwks})
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + l.Addr().String() + "/jwks.json"
	p.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(body)
	})}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// issuersConfig is the issuers: section of the external gateways.
func (p *idp) issuersConfig() string {
	return fmt.Sprintf(`issuers:
  - issuer: %q
    jwks_url: %q
    audiences: [%s]
    algorithms: [ES256, RS256]
    claims:
      roles: [roles]
`, extIssuer, p.url, extAudience)
}

// tokens mints the token of kid's algorithm the load sends, and the ones
// a correct gateway must refuse: forged (the kid, another key), expired,
// and for another audience.
func (p *idp) tokens(kid string) (good string, bad map[string]string, err error) {
	alg := extAlgs[kid]
	mint := func(key crypto.Signer, aud string, now time.Time) (string, error) {
		tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims{
			"iss": extIssuer, "aud": aud, "sub": benchUser, "roles": []string{"user"},
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": fmt.Sprintf("bench-%d", now.UnixNano()),
		})
		tok.Header["kid"] = kid
		return tok.SignedString(key)
	}
	now := time.Now()
	if good, err = mint(p.keys[kid], extAudience, now); err != nil {
		return "", nil, err
	}
	bad = map[string]string{}
	if bad["forged"], err = mint(p.forgers[kid], extAudience, now); err != nil {
		return "", nil, err
	}
	if bad["expired"], err = mint(p.keys[kid], extAudience, now.Add(-2*time.Hour)); err != nil {
		return "", nil, err
	}
	if bad["wrong audience"], err = mint(p.keys[kid], "another-api", now); err != nil {
		return "", nil, err
	}
	return good, bad, nil
}
