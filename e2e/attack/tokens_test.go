package attack

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tokenCase is a credential and the answer it must get on an
// authenticated route.
type tokenCase struct {
	name  string
	token string
	code  string // INVALID_TOKEN unless set; anyCode accepts any 401
	ok    bool   // a control: a genuine token that must pass
	// malformed: outside the token68 alphabet, so as a Bearer header it
	// is 400 MALFORMED_AUTHORIZATION (as a cookie, a 401).
	malformed bool
}

// anyCode accepts any error code (with any 4xx status in the bearer case
// when the header itself is malformed).
const anyCode = "*"

// TestTokens: hostile access tokens, each sent as a Bearer header and as
// the session cookie, on an authenticated route. Only the controls reach
// the upstream, with the identity the token proves.
func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	k := e.keys
	now := time.Now()
	hj := func(alg, kid string, mod map[string]any) string { return jsonOf(t, header(alg, kid, mod)) }
	cj := func(mod map[string]any) string { return jsonOf(t, claims("mallory", now, mod)) }
	good := cj(map[string]any{"roles": []string{"admin"}})
	edSigned := func(h, c string) string { return sign(t, h, c, "EdDSA", k.ed) }
	parts := strings.Split(k.valid(t, "mallory", nil), ".")
	unsigned := func(h string) string { return b64(h) + "." + b64(good) + "." }

	cases := []tokenCase{
		{name: "control: EdDSA", token: edSigned(hj("EdDSA", "ed", nil), good), ok: true},
		{name: "control: ES256", token: sign(t, hj("ES256", "es", nil), good, "ES256", k.es), ok: true},
		{name: "control: RS256", token: sign(t, hj("RS256", "rs", nil), good, "RS256", k.rs), ok: true},
		{name: "control: HS256", token: sign(t, hj("HS256", "hs", nil), good, "HS256", []byte(hsSecret)), ok: true},
		{name: "control: exp within leeway", token: edSigned(hj("EdDSA", "ed", nil), cj(map[string]any{"exp": now.Add(-2 * time.Second).Unix(), "roles": []string{"admin"}})), ok: true},
		{name: "control: nbf within leeway", token: edSigned(hj("EdDSA", "ed", nil), cj(map[string]any{"nbf": now.Add(2 * time.Second).Unix(), "roles": []string{"admin"}})), ok: true},
	}
	// alg: none in every casing, with and without a signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE", "noNe", "none ", ""} {
		cases = append(cases,
			tokenCase{name: "alg " + alg + " unsigned", token: unsigned(hj(alg, "ed", nil))},
			tokenCase{name: "alg " + alg + " with a genuine signature", token: b64(hj(alg, "ed", nil)) + "." + b64(good) + "." + parts[2]},
		)
	}
	cases = append(cases, tokenCase{name: "no alg member", token: edSigned(hj("EdDSA", "ed", map[string]any{"alg": nil}), good)})
	// HMAC "signed" with a public key (key confusion, RFC 8725 section 2.1).
	for _, kid := range []string{"ed", "es", "rs"} {
		pub := map[string][]byte{"ed": k.edPub, "es": k.esPub, "rs": k.rsPub}[kid]
		for _, alg := range []string{"HS256", "HS384", "HS512"} {
			cases = append(cases,
				tokenCase{name: alg + " with the " + kid + " public key PEM", token: sign(t, hj(alg, kid, nil), good, alg, pub)},
				tokenCase{name: alg + " with the " + kid + " public key PEM, no newline", token: sign(t, hj(alg, kid, nil), good, alg, []byte(strings.TrimSpace(string(pub))))},
			)
		}
	}
	// The right key with the wrong algorithm, and a genuine signature under
	// another key's kid.
	cases = append(cases,
		tokenCase{name: "ES256 signature under kid ed", token: sign(t, hj("ES256", "ed", nil), good, "ES256", k.es)},
		tokenCase{name: "EdDSA signature under kid es", token: sign(t, hj("EdDSA", "es", nil), good, "EdDSA", k.ed)},
		tokenCase{name: "PS256 with the RSA key", token: sign(t, hj("PS256", "rs", nil), good, "PS256", k.rs)},
		tokenCase{name: "RS512 with the RSA key", token: sign(t, hj("RS512", "rs", nil), good, "RS512", k.rs)},
		tokenCase{name: "HS256 kid hs, wrong secret", token: sign(t, hj("HS256", "hs", nil), good, "HS256", []byte("guess"))},
	)
	// kid values that are paths, URLs, SQL, huge or odd.
	for _, kid := range []string{"../../../../../dev/null", "/dev/null", "/proc/self/environ", "file:///etc/passwd",
		"http://evil.attack.test/key.pem", "https://evil.attack.test/.well-known/jwks.json", "' OR '1'='1", "ed' --", "ed;DROP TABLE keys",
		"ED", "ed ", " ed", "ed\u0000", "\u0065d\u200b", "", strings.Repeat("k", 3000)} {
		name := kid
		if len(name) > 40 {
			name = "huge"
		}
		cases = append(cases,
			tokenCase{name: "kid " + name + " HS256 empty secret", token: sign(t, hj("HS256", kid, nil), good, "HS256", []byte{})},
			tokenCase{name: "kid " + name + " EdDSA", token: edSigned(hj("EdDSA", kid, nil), good)},
		)
	}
	cases = append(cases,
		tokenCase{name: "kid a number", token: edSigned(hj("EdDSA", "ed", map[string]any{"kid": 1}), good)},
		tokenCase{name: "kid null", token: edSigned(hj("EdDSA", "ed", map[string]any{"kid": []string{"ed"}}), good)},
		tokenCase{name: "no kid", token: edSigned(hj("EdDSA", "ed", map[string]any{"kid": nil}), good)},
	)
	// Key-carrying and processing headers: never followed, never trusted,
	// even on an otherwise genuine token.
	attackerJWK := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString([]byte(k.ed.Public().(ed25519.PublicKey)))}
	for _, h := range []map[string]any{
		{"jku": "https://evil.attack.test/jwks.json"}, {"jwk": attackerJWK}, {"x5u": "https://evil.attack.test/cert.pem"},
		{"x5c": []string{"MIIB"}}, {"crit": []string{"exp"}}, {"b64": false, "crit": []string{"b64"}}, {"b64": false},
		{"JKU": "https://evil.attack.test/"}, {"Alg": "none"}, {"KID": "ed"}, {"TYP": "at+jwt"},
	} {
		name := ""
		for n := range h {
			name += n + " "
		}
		cases = append(cases, tokenCase{name: "header " + name, token: edSigned(hj("EdDSA", "ed", h), good)})
	}
	// typ.
	for _, typ := range []any{"JWT", "at+JWT", "AT+JWT", "application/at+jwt", "", nil, 1} {
		cases = append(cases, tokenCase{name: "typ " + jsonOf(t, typ), token: edSigned(hj("EdDSA", "ed", map[string]any{"typ": typ}), good)})
	}
	// Signatures: empty, stripped, non-canonical, ECDSA r=s=0.
	sig := parts[2]
	flip := func(s string) string { // change the unused low bits of the last character
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[len(s)-1])
		return s[:len(s)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last^1])
	}
	esHead := b64(hj("ES256", "es", nil)) + "." + b64(good) + "."
	cases = append(cases,
		tokenCase{name: "empty signature", token: parts[0] + "." + parts[1] + "."},
		tokenCase{name: "two parts", token: parts[0] + "." + parts[1]},
		tokenCase{name: "four parts", token: parts[0] + "." + parts[1] + "." + sig + "." + sig},
		tokenCase{name: "signature with padding", token: parts[0] + "." + parts[1] + "." + sig + "=="},
		tokenCase{name: "signature in standard base64", token: parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "+/"},
		tokenCase{name: "non-canonical last character", token: parts[0] + "." + parts[1] + "." + flip(sig)},
		tokenCase{name: "signature of another payload", token: parts[0] + "." + b64(good) + "." + sig},
		tokenCase{name: "ECDSA r=s=0", token: esHead + base64.RawURLEncoding.EncodeToString(make([]byte, 64))},
		tokenCase{name: "ECDSA r=s=n", token: esHead + base64.RawURLEncoding.EncodeToString(append(k.es.Params().N.FillBytes(make([]byte, 32)), k.es.Params().N.FillBytes(make([]byte, 32))...))},
		tokenCase{name: "ECDSA DER signature", token: esHead + base64.RawURLEncoding.EncodeToString([]byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00})},
		// Outside the token68 alphabet: a malformed Authorization header.
		tokenCase{name: "padded header", token: b64(hj("EdDSA", "ed", nil)) + "=." + parts[1] + "." + sig, malformed: true},
		tokenCase{name: "whitespace inside", token: parts[0] + ".\t" + parts[1] + "." + sig, malformed: true},
	)
	// Time claims.
	for _, c := range []struct {
		name string
		mod  map[string]any
		code string
	}{
		{"no exp", map[string]any{"exp": nil}, ""},
		{"exp 0", map[string]any{"exp": 0}, "TOKEN_EXPIRED"},
		{"exp negative", map[string]any{"exp": -1}, "TOKEN_EXPIRED"},
		{"exp beyond leeway", map[string]any{"exp": now.Add(-8 * time.Second).Unix()}, "TOKEN_EXPIRED"},
		{"exp huge", map[string]any{"exp": 1e300}, anyCode},
		{"exp a string", map[string]any{"exp": "9999999999"}, ""},
		{"exp an object", map[string]any{"exp": map[string]any{"$gt": 0}}, ""},
		{"iat in the future", map[string]any{"iat": now.Add(time.Hour).Unix()}, ""},
		{"no iat", map[string]any{"iat": nil}, ""},
		{"nbf in the future", map[string]any{"nbf": now.Add(time.Hour).Unix()}, ""},
		{"nbf beyond leeway", map[string]any{"nbf": now.Add(30 * time.Second).Unix()}, ""},
		{"wrong iss", map[string]any{"iss": "https://evil.attack.test"}, ""},
		{"iss with a trailing slash", map[string]any{"iss": issuer + "/"}, ""},
		{"no iss", map[string]any{"iss": nil}, ""},
		{"wrong aud", map[string]any{"aud": "other-app"}, ""},
		{"aud an array with ours", map[string]any{"aud": []string{"other-app", audience}}, ""},
		{"no aud", map[string]any{"aud": nil}, ""},
		{"no sub", map[string]any{"sub": nil}, ""},
		{"empty sub", map[string]any{"sub": ""}, ""},
		{"no sid", map[string]any{"sid": nil}, ""},
		{"no jti", map[string]any{"jti": nil}, ""},
		{"roles a string", map[string]any{"roles": "admin"}, ""},
	} {
		cases = append(cases, tokenCase{name: c.name, token: edSigned(hj("EdDSA", "ed", nil), cj(c.mod)), code: c.code})
	}
	// Duplicate and case-colliding members, genuinely signed: another
	// parser would read another identity.
	base := strings.TrimSuffix(cj(nil), "}")
	for name, payload := range map[string]string{
		"sub twice":            base + `,"sub":"admin"}`,
		"SUB beside sub":       base + `,"SUB":"admin"}`,
		"Sub beside sub":       base + `,"Sub":"admin"}`,
		"roles twice":          base + `,"roles":["admin"]}`,
		"ROLES beside roles":   base + `,"ROLES":["admin"]}`,
		"exp twice":            base + `,"exp":99999999999}`,
		"trailing data":        cj(nil) + `{"sub":"admin"}`,
		"not an object":        `["sub","admin"]`,
		"escaped duplicate":    base + `,"s\u0075b":"admin"}`,
		"unicode case collide": base + `,"ſub":"admin"}`,
	} {
		cases = append(cases, tokenCase{name: "payload " + name, token: edSigned(hj("EdDSA", "ed", nil), payload)})
	}
	hbase := `{"alg":"EdDSA","kid":"ed","typ":"at+jwt"`
	for name, h := range map[string]string{
		"alg twice": hbase + `,"alg":"none"}`,
		"kid twice": hbase + `,"kid":"hs"}`,
		"ALG":       hbase + `,"ALG":"HS256"}`,
	} {
		cases = append(cases, tokenCase{name: "header " + name, token: edSigned(h, good)})
	}
	// Sizes and other serialisations.
	big := cj(map[string]any{"pad": strings.Repeat("A", 5000)})
	cases = append(cases,
		tokenCase{name: "over max_token_bytes, genuinely signed", token: edSigned(hj("EdDSA", "ed", nil), big)},
		tokenCase{name: "JWE compact (five parts)", token: b64(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"rs"}`) + ".AAAA.AAAA.AAAA.AAAA"},
		tokenCase{name: "JWE dir with the HS secret", token: b64(`{"alg":"dir","enc":"A256GCM","kid":"hs"}`) + "..AAAA.AAAA.AAAA"},
		tokenCase{name: "random bytes", token: "Zm9v.YmFy.YmF6"},
		tokenCase{name: "dots only", token: ".."},
	)

	for _, c := range cases {
		for _, via := range []string{"bearer", "cookie"} {
			t.Run(via+"/"+c.name, func(t *testing.T) {
				cred := "Authorization: Bearer " + c.token
				if via == "cookie" {
					cred = "Cookie: gatehouse=" + c.token
				}
				ac := attackCase{
					req:    rawRequest("GET", "/app/tokens", "gw.attack.test", "{{case}}", "Accept: application/json", cred),
					status: http.StatusUnauthorized, code: c.code,
				}
				switch {
				case ac.code == "" && !c.ok:
					ac.code = "INVALID_TOKEN"
				case ac.code == anyCode:
					ac.code = ""
				}
				if c.malformed && via == "bearer" {
					ac.status, ac.code = http.StatusBadRequest, "MALFORMED_AUTHORIZATION"
				}
				if via == "cookie" {
					// A cookie the gateway did not set is cleared; net/http
					// drops values outside the cookie alphabet (no
					// credential at all); either is a 401.
					ac.code = ""
				}
				if c.ok {
					ac.status, ac.code, ac.reaches = 200, "", true
					ac.upstream = func(t *testing.T, r record) {
						wantIdentity("mallory", "admin")(t, r)
						if r.Header.Get("Authorization") != "" || strings.Contains(r.Header.Get("Cookie"), "gatehouse=") {
							t.Errorf("the credential reached the upstream: %v", r.Header)
						}
					}
				}
				checkCase(t, e.addr, e.up, t.Name(), ac)
			})
		}
	}
}

// TestTokenTypes: a refresh token is not an access token and the reverse;
// an oversized Authorization header is refused before parsing.
func TestTokenTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	access, refresh, _ := login(t, e.base, "alice", true)
	e.run(t, []attackCase{
		{name: "control: the access token", status: 200, reaches: true, upstream: wantIdentity("alice", "user"),
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Authorization: Bearer "+access)},
		{name: "refresh token as a bearer token", status: 401, code: "INVALID_TOKEN",
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Authorization: Bearer "+refresh)},
		{name: "refresh token as the cookie", status: 401,
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Cookie: gatehouse="+refresh)},
		{name: "refresh token as both halves", status: 401,
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Cookie: gatehouse="+refresh+"~"+refresh)},
		{name: "access token as the refresh token", status: 401,
			req: rawPost("/.auth/refresh", `{"refresh_token":"`+access+`"}`, "X-Auth-Mode: header")},
		{name: "access token as the refresh half of the cookie", status: 401,
			req: rawRequest("POST", "/.auth/refresh", "gw.attack.test", "{{case}}", "Cookie: gatehouse="+access+"~"+access, "Content-Length: 0")},
		{name: "two bearer headers", status: 400, code: "MALFORMED_AUTHORIZATION",
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Authorization: Bearer "+access, "Authorization: Bearer "+access)},
		{name: "bearer with two tokens", status: 400, code: "MALFORMED_AUTHORIZATION",
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Authorization: Bearer "+access+" "+access)},
		{name: "JSON serialisation", status: 400, code: "MALFORMED_AUTHORIZATION",
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", `Authorization: Bearer {"payload":"e30","signatures":[{"protected":"e30","signature":""}]}`)},
		{name: "Authorization header far beyond the limit", status: 431,
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Authorization: Bearer "+strings.Repeat("a", 80<<10))},
		{name: "a thousand small headers beyond the limit", status: 431,
			req: rawRequest("GET", "/app/x", "gw.attack.test", append([]string{"{{case}}"}, strings.Split(strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\n", 1000), "\n")[:1000]...)...)},
		{name: "cookie header far beyond the limit", status: 431,
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Cookie: gatehouse="+strings.Repeat("a", 80<<10))},
	})
}

// TestExpiredBadSignatureNoRefresh: an expired access token that is not
// ours (bad signature, confusion) beside a genuine refresh token must not
// start a refresh: no new cookie, the refresh token not rotated.
func TestExpiredBadSignatureNoRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, _, cookie := login(t, e.base, "alice", false)
	access, refresh, _ := strings.Cut(cookie, "~")
	p := strings.Split(access, ".")
	past := time.Now().Add(-time.Hour)
	expired := jsonOf(t, claims("alice", past, map[string]any{"exp": past.Add(time.Minute).Unix()}))
	forgedExpired := []struct{ name, token string }{
		{"bad signature", b64(jsonOf(t, header("EdDSA", "ed", nil))) + "." + b64(expired) + "." + p[2]},
		{"HS256 with the public key", sign(t, jsonOf(t, header("HS256", "ed", nil)), expired, "HS256", e.keys.edPub)},
		{"alg none", b64(jsonOf(t, header("none", "ed", nil))) + "." + b64(expired) + "."},
		{"unknown kid", sign(t, jsonOf(t, header("HS256", "nope", nil)), expired, "HS256", []byte("x"))},
		{"wrong issuer, genuinely signed", sign(t, jsonOf(t, header("EdDSA", "ed", nil)), jsonOf(t, claims("alice", past, map[string]any{"exp": past.Add(time.Minute).Unix(), "iss": "https://evil.attack.test"})), "EdDSA", e.keys.ed)},
	}
	var cases []attackCase
	for _, f := range forgedExpired {
		cases = append(cases, attackCase{name: f.name, status: 401, code: "INVALID_TOKEN",
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Cookie: gatehouse="+f.token+"~"+refresh),
			response: func(t *testing.T, r *rawResponse) {
				for _, sc := range r.Header.Values("Set-Cookie") {
					if strings.HasPrefix(sc, "gatehouse=") && !strings.HasPrefix(sc, "gatehouse=;") {
						t.Errorf("a new session cookie was issued: %q", sc)
					}
				}
			}})
	}
	e.run(t, cases)
	// The genuine refresh token was never rotated: it still refreshes,
	// once, without a reuse alarm.
	res := sendRaw(t, e.addr, rawPost("/.auth/refresh", `{"refresh_token":"`+refresh+`"}`, "X-Auth-Mode: header"))
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the genuine refresh token after the attempts: %v", res)
	}
}

// rawPost is a JSON POST with a {{case}} marker.
func rawPost(target, body string, headers ...string) string {
	h := append([]string{"{{case}}", "Content-Type: application/json", "Content-Length: " + strconv.Itoa(len(body))}, headers...)
	return rawRequest("POST", target, "gw.attack.test", h...) + body
}
