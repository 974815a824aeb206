package session

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/config"
)

var testIdentity = Identity{
	Subject: "user-1",
	Email:   "u@example.com",
	Roles:   []string{"admin", "dev"},
	Claims:  map[string]any{"tenant": "acme", "email_verified": true, "not_configured": "x", "n": 1},
}

// decodePart decodes part i (0 header, 1 payload) of raw into a map.
func decodePart(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMintVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256", "HS256"} {
		t.Run(alg, func(t *testing.T) {
			clock := newClock()
			k := testKey(t, alg, "a")
			tk := newTestTokens(t, clock, k)
			raw, minted, err := tk.Mint(testIdentity, "sess-1")
			if err != nil {
				t.Fatal(err)
			}
			if h := decodePart(t, raw, 0); !reflect.DeepEqual(h, map[string]any{"alg": alg, "kid": k.ID(), "typ": "at+jwt"}) {
				t.Errorf("header %v", h)
			}
			c := decodePart(t, raw, 1)
			for _, name := range []string{"iss", "aud", "sub", "sid", "jti", "iat", "nbf", "exp", "email", "roles", "tenant", "email_verified"} {
				if _, ok := c[name]; !ok {
					t.Errorf("claim %s missing from %v", name, c)
				}
			}
			if _, ok := c["not_configured"]; ok {
				t.Errorf("unconfigured claim copied: %v", c)
			}
			if c["aud"] != "app" || c["iat"] != c["nbf"] || c["exp"].(float64)-c["iat"].(float64) != 300 {
				t.Errorf("claims %v", c)
			}
			if jti, _ := base64.RawURLEncoding.DecodeString(c["jti"].(string)); len(jti) != 16 {
				t.Errorf("jti %q is not 128 bits", c["jti"])
			}

			got, err := tk.Verify(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, minted) {
				t.Fatalf("Verify = %+v\nMint   = %+v", got, minted)
			}
			want := &Principal{
				Identity: Identity{
					Subject: "user-1", Email: "u@example.com", Roles: []string{"admin", "dev"},
					Claims: map[string]any{"tenant": "acme", "email_verified": true},
				},
				SessionID: "sess-1",
				TokenID:   c["jti"].(string),
				IssuedAt:  t0,
				ExpiresAt: t0.Add(5 * time.Minute),
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Verify = %+v\nwant     %+v", got, want)
			}
		})
	}
}

func TestMintOmitsEmptyClaims(t *testing.T) {
	tk := newTestTokens(t, newClock(), testKey(t, "EdDSA", "a"))
	raw, p, err := tk.Mint(Identity{Subject: "s"}, "sid")
	if err != nil {
		t.Fatal(err)
	}
	c := decodePart(t, raw, 1)
	for _, name := range []string{"email", "roles", "tenant"} {
		if _, ok := c[name]; ok {
			t.Errorf("empty claim %s present: %v", name, c)
		}
	}
	if p.Roles != nil || p.Claims != nil || p.Email != "" {
		t.Errorf("principal %+v", p)
	}
	raw2, _, _ := tk.Mint(Identity{Subject: "s"}, "sid")
	if decodePart(t, raw2, 1)["jti"] == c["jti"] {
		t.Error("two tokens share a jti")
	}
}

func TestMintErrors(t *testing.T) {
	tk := newTestTokens(t, newClock(), testKey(t, "EdDSA", "a"))
	if _, _, err := tk.Mint(Identity{}, "sid"); err == nil {
		t.Error("minted without a subject")
	}
	if _, _, err := tk.Mint(Identity{Subject: "s"}, ""); err == nil {
		t.Error("minted without a session id")
	}
	if _, _, err := tk.Mint(Identity{Subject: "s", Roles: []string{strings.Repeat("r", 5000)}}, "sid"); err == nil {
		t.Error("minted a token over max_token_bytes")
	}
	if _, _, err := tk.Mint(Identity{Subject: "s", Claims: map[string]any{"tenant": make(chan int)}}, "sid"); err == nil {
		t.Error("minted an unencodable claim")
	}
}

func TestNewTokensConfigErrors(t *testing.T) {
	ks, err := NewKeySet([]*Key{testKey(t, "EdDSA", "a")}, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Tokens{
		AccessTTL:     0,
		Leeway:        -time.Second,
		MaxTokenBytes: 0,
		SigningKey:    "other",
		Claims:        []string{"tenant", "", "SUB", "tenant"},
	}
	_, err = NewTokens(cfg, ks, nil)
	var got []string
	for _, fe := range config.FieldErrors(err) {
		got = append(got, fe.Field)
	}
	want := []string{"tokens.issuer", "tokens.audience", "tokens.access_ttl", "tokens.leeway", "tokens.max_token_bytes",
		"tokens.claims[1]", "tokens.claims[2]", "tokens.claims[3]", "tokens.signing_key"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields %q\nwant   %q", got, want)
	}
	tk, err := NewTokens(testTokensConfig(), ks, nil)
	if err != nil || tk.AccessTTL() != 5*time.Minute {
		t.Fatalf("%v %v", tk, err)
	}
}

func TestKeyRotation(t *testing.T) {
	clock := newClock()
	oldKey, newKey := testKey(t, "EdDSA", "old"), testKey(t, "ES256", "new")
	before := newTestTokens(t, clock, oldKey)
	oldToken, _, err := before.Mint(testIdentity, "s")
	if err != nil {
		t.Fatal(err)
	}
	// The new configuration signs with newKey and keeps oldKey verify-only.
	after := newTestTokens(t, clock, newKey, publicOnly(t, oldKey))
	if _, err := after.Verify(oldToken); err != nil {
		t.Fatalf("old token rejected after rotation: %v", err)
	}
	newToken, _, err := after.Mint(testIdentity, "s")
	if err != nil {
		t.Fatal(err)
	}
	if h := decodePart(t, newToken, 0); h["kid"] != newKey.ID() || h["alg"] != "ES256" {
		t.Fatalf("new token header %v", h)
	}
	if _, err := before.Verify(newToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old set verifying a new-key token: %v", err)
	}
	// Once the old key is dropped, its tokens are unknown.
	dropped := newTestTokens(t, clock, newKey)
	if _, err := dropped.Verify(oldToken); !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("dropped key: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	clock := newClock()
	ed := testKey(t, "EdDSA", "a")
	other := testKey(t, "EdDSA", "b")
	hs := testKey(t, "HS256", "a")
	tk := newTestTokens(t, clock, ed, hs)
	now := clock.Now()

	header := func(mod func(map[string]any)) string {
		h := goodHeader(ed)
		if mod != nil {
			mod(h)
		}
		return mustJSON(t, h)
	}
	claims := func(mod func(map[string]any)) string {
		c := goodClaims(now)
		if mod != nil {
			mod(c)
		}
		return mustJSON(t, c)
	}
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	signEd := signer(t, ed)
	hmacWith := func(secret []byte) func(string) []byte {
		return func(input string) []byte {
			sig, err := jwt.SigningMethodHS256.Sign(input, secret)
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
	}
	good := forge(header(nil), claims(nil), signEd)
	if _, err := tk.Verify(good); err != nil {
		t.Fatalf("the unmodified forged token is rejected: %v", err)
	}
	parts := strings.Split(good, ".")

	tests := []struct {
		name     string
		raw      string
		want     error // the specific sentinel
		umbrella error // ErrInvalidToken unless set
	}{
		{"oversized", good + strings.Repeat("A", 4096), ErrTokenTooLarge, nil},
		{"empty", "", ErrMalformedToken, nil},
		{"two parts", parts[0] + "." + parts[1], ErrMalformedToken, nil},
		{"four parts", good + ".AAAA", ErrMalformedToken, nil},
		{"empty signature part", parts[0] + "." + parts[1] + ".", ErrBadSignature, nil},
		{"empty header part", "." + parts[1] + "." + parts[2], ErrMalformedToken, nil},
		{"empty payload part", parts[0] + ".." + parts[2], ErrMalformedToken, nil},
		{"bad base64 in header", "eyJ!" + good[4:], ErrMalformedToken, nil},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformedToken, nil},
		{"bad base64 in payload", parts[0] + ".e$." + parts[2], ErrMalformedToken, nil},
		{"payload with an extra character", parts[0] + "." + parts[1] + "A." + parts[2], ErrMalformedToken, nil},
		{"header not JSON", b64("nope") + "." + parts[1] + "." + parts[2], ErrMalformedToken, nil},
		{"header is an array", b64(`["alg"]`) + "." + parts[1] + "." + parts[2], ErrMalformedToken, nil},
		{"header with trailing data", forge(header(nil)+"{}", claims(nil), signEd), ErrMalformedToken, nil},
		{"duplicate alg in header", forge(`{"alg":"EdDSA","alg":"HS256","kid":"`+ed.ID()+`","typ":"at+jwt"}`, claims(nil), signEd), ErrMalformedToken, nil},
		{"KID case variant in header", forge(`{"alg":"EdDSA","KID":"x","kid":"`+ed.ID()+`","typ":"at+jwt"}`, claims(nil), signEd), ErrMalformedToken, nil},
		{"kid is a number", forge(header(set("kid", 7)), claims(nil), signEd), ErrMalformedToken, nil},
		{"payload not JSON", forge(header(nil), "nope", signEd), ErrMalformedToken, nil},
		{"payload with trailing data", forge(header(nil), claims(nil)+"[]", signEd), ErrMalformedToken, nil},
		{"sub is a number", forge(header(nil), claims(set("sub", 5)), signEd), ErrMalformedToken, nil},
		{"aud is an array", forge(header(nil), claims(set("aud", []string{"app"})), signEd), ErrMalformedToken, nil},
		{"duplicate sub", forge(header(nil), strings.Replace(claims(nil), `"sub":"user-1"`, `"sub":"user-1","sub":"admin"`, 1), signEd), ErrMalformedToken, nil},
		{"SUB beside sub", forge(header(nil), claims(set("SUB", "admin")), signEd), ErrMalformedToken, nil},
		{"Sub instead of sub", forge(header(nil), strings.Replace(claims(nil), `"sub"`, `"Sub"`, 1), signEd), ErrMalformedToken, nil},
		// U+017F (long s) and U+212A (Kelvin) fold to s and k in
		// encoding/json's case-insensitive matching, though longer in bytes.
		{"\u017fub beside sub", forge(header(nil), claims(set("\u017fub", "admin")), signEd), ErrMalformedToken, nil},
		{"role\u017f beside roles", forge(header(nil), claims(set("role\u017f", []string{"admin"})), signEd), ErrMalformedToken, nil},
		{"\u212aID case variant in header", forge(`{"alg":"EdDSA","\u212aid":"x","kid":"`+ed.ID()+`","typ":"at+jwt"}`, claims(nil), signEd), ErrMalformedToken, nil},
		{"exp a numeric string", forge(header(nil), claims(set("exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10))), signEd), ErrMalformedToken, nil},
		{"nbf a numeric string", forge(header(nil), claims(set("nbf", strconv.FormatInt(now.Unix(), 10))), signEd), ErrMalformedToken, nil},
		{"iat a numeric string", forge(header(nil), claims(set("iat", strconv.FormatInt(now.Unix(), 10))), signEd), ErrMalformedToken, nil},
		{"duplicate unknown member", forge(header(nil), strings.Replace(claims(nil), `{`, `{"x":1,"x":2,`, 1), signEd), ErrMalformedToken, nil},
		{"Tenant case variant of an extra claim", forge(header(nil), claims(set("Tenant", "evil")), signEd), ErrMalformedToken, nil},
		{"typ JWT", forge(header(set("typ", "JWT")), claims(nil), signEd), ErrInvalidToken, nil},
		{"typ missing", forge(header(del("typ")), claims(nil), signEd), ErrInvalidToken, nil},
		{"typ application/jwt", forge(header(set("typ", "application/jwt")), claims(nil), signEd), ErrInvalidToken, nil},
		{"crit", forge(header(set("crit", []string{"exp"})), claims(nil), signEd), ErrInvalidToken, nil},
		{"b64 false", forge(header(set("b64", false)), claims(nil), signEd), ErrInvalidToken, nil},
		{"jku", forge(header(set("jku", "https://evil.example/jwks.json")), claims(nil), signEd), ErrInvalidToken, nil},
		{"jwk", forge(header(set("jwk", map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"})), claims(nil), signEd), ErrInvalidToken, nil},
		{"x5u", forge(header(set("x5u", "https://evil.example/cert.pem")), claims(nil), signEd), ErrInvalidToken, nil},
		{"x5c", forge(header(set("x5c", []string{"MIIB"})), claims(nil), signEd), ErrInvalidToken, nil},
		{"missing kid", forge(header(del("kid")), claims(nil), signEd), ErrUnknownKey, nil},
		{"empty kid", forge(header(set("kid", "")), claims(nil), signEd), ErrUnknownKey, nil},
		{"unknown kid", forge(header(set("kid", other.ID())), claims(nil), signer(t, other)), ErrUnknownKey, nil},
		{"path traversal kid", forge(header(set("kid", "../../etc/passwd")), claims(nil), signEd), ErrUnknownKey, nil},
		{"alg none", forge(header(set("alg", "none")), claims(nil), nil), ErrAlgorithmMismatch, nil},
		{"alg None", forge(header(set("alg", "None")), claims(nil), nil), ErrAlgorithmMismatch, nil},
		{"alg NONE", forge(header(set("alg", "NONE")), claims(nil), nil), ErrAlgorithmMismatch, nil},
		{"alg eddsa", forge(header(set("alg", "eddsa")), claims(nil), signEd), ErrAlgorithmMismatch, nil},
		{"alg missing", forge(header(del("alg")), claims(nil), signEd), ErrAlgorithmMismatch, nil},
		{"HS256 keyed with the Ed25519 public key bytes", forge(header(set("alg", "HS256")), claims(nil), hmacWith([]byte(ed.public.(ed25519.PublicKey)))), ErrAlgorithmMismatch, nil},
		{"HS256 keyed with the public key PEM", forge(header(set("alg", "HS256")), claims(nil), hmacWith([]byte(publicPEM(t, ed)))), ErrAlgorithmMismatch, nil},
		{"EdDSA against the HS256 kid", forge(header(set("kid", hs.ID())), claims(nil), signEd), ErrAlgorithmMismatch, nil},
		{"signed by another key under our kid", forge(header(nil), claims(nil), signer(t, other)), ErrBadSignature, nil},
		{"payload changed after signing", parts[0] + "." + b64(claims(set("sub", "admin"))) + "." + parts[2], ErrBadSignature, nil},
		{"HS256 with a wrong secret", forge(mustJSON(t, goodHeader(hs)), claims(nil), hmacWith([]byte(strings.Repeat("x", 32)))), ErrBadSignature, nil},
		{"expired with a bad signature", forge(header(nil), claims(set("exp", now.Add(-time.Hour).Unix())), signer(t, other)), ErrBadSignature, nil},
		{"wrong iss", forge(header(nil), claims(set("iss", "https://evil.example")), signEd), ErrWrongIssuer, nil},
		{"wrong aud", forge(header(nil), claims(set("aud", "other-app")), signEd), ErrWrongAudience, nil},
		{"wrong iss and expired", forge(header(nil), claims(func(m map[string]any) { m["iss"] = "x"; m["exp"] = now.Add(-time.Hour).Unix() }), signEd), ErrWrongIssuer, nil},
		{"missing iss", forge(header(nil), claims(del("iss")), signEd), ErrMissingClaim, nil},
		{"missing aud", forge(header(nil), claims(del("aud")), signEd), ErrMissingClaim, nil},
		{"missing exp", forge(header(nil), claims(del("exp")), signEd), ErrMissingClaim, nil},
		{"null exp", forge(header(nil), claims(set("exp", nil)), signEd), ErrMissingClaim, nil},
		{"missing iat", forge(header(nil), claims(del("iat")), signEd), ErrMissingClaim, nil},
		{"missing sub", forge(header(nil), claims(del("sub")), signEd), ErrMissingClaim, nil},
		{"empty sub", forge(header(nil), claims(set("sub", "")), signEd), ErrMissingClaim, nil},
		{"missing sid", forge(header(nil), claims(del("sid")), signEd), ErrMissingClaim, nil},
		{"missing jti", forge(header(nil), claims(del("jti")), signEd), ErrMissingClaim, nil},
		{"missing sub and expired", forge(header(nil), claims(func(m map[string]any) { delete(m, "sub"); m["exp"] = now.Add(-time.Hour).Unix() }), signEd), ErrMissingClaim, nil},
		{"nbf beyond leeway", forge(header(nil), claims(set("nbf", now.Add(31*time.Second).Unix())), signEd), ErrNotYetValid, nil},
		{"iat beyond leeway", forge(header(nil), claims(set("iat", now.Add(31*time.Second).Unix())), signEd), ErrNotYetValid, nil},
		{"exp beyond leeway", forge(header(nil), claims(set("exp", now.Add(-31*time.Second).Unix())), signEd), ErrTokenExpired, ErrTokenExpired},
		{"exp exactly at the leeway", forge(header(nil), claims(set("exp", now.Add(-30*time.Second).Unix())), signEd), ErrTokenExpired, ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tk.Verify(tt.raw)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if p != nil {
				t.Errorf("principal %+v returned with an error", p)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			umbrella := tt.umbrella
			if umbrella == nil {
				umbrella = ErrInvalidToken
			}
			if !errors.Is(err, umbrella) {
				t.Errorf("err = %v, does not match umbrella %v", err, umbrella)
			}
			if umbrella == ErrTokenExpired && errors.Is(err, ErrInvalidToken) {
				t.Errorf("expired token also matches ErrInvalidToken: %v", err)
			}
			if umbrella == ErrInvalidToken && errors.Is(err, ErrTokenExpired) {
				t.Errorf("invalid token also matches ErrTokenExpired: %v", err)
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	clock := newClock()
	ed := testKey(t, "EdDSA", "a")
	tk := newTestTokens(t, clock, ed)
	now := clock.Now()
	sign := signer(t, ed)
	tests := []struct {
		name string
		mod  func(map[string]any)
	}{
		{"nbf within leeway", func(m map[string]any) { m["nbf"] = now.Add(30 * time.Second).Unix() }},
		{"iat within leeway", func(m map[string]any) { m["iat"] = now.Add(30 * time.Second).Unix() }},
		{"exp passed within leeway", func(m map[string]any) { m["exp"] = now.Add(-29 * time.Second).Unix() }},
		{"no nbf", func(m map[string]any) { delete(m, "nbf") }},
		{"unknown claims ignored", func(m map[string]any) { m["zzz"] = map[string]any{"a": []int{1}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodClaims(now)
			tt.mod(c)
			if _, err := tk.Verify(forge(mustJSON(t, goodHeader(ed)), mustJSON(t, c), sign)); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

func TestVerifyExpiryMovesWithClock(t *testing.T) {
	clock := newClock()
	tk := newTestTokens(t, clock, testKey(t, "EdDSA", "a"))
	raw, _, err := tk.Mint(testIdentity, "s")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(5*time.Minute + 29*time.Second)
	if _, err := tk.Verify(raw); err != nil {
		t.Fatalf("rejected within leeway: %v", err)
	}
	clock.Advance(time.Second)
	_, err = tk.Verify(raw)
	if !errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after exp+leeway: %v", err)
	}
}
