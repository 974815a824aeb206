package attack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// b64 is base64url without padding, as in a compact JWS.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jsonOf marshals v, failing the test on error.
func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// claims returns valid access-token claims for sub at now, changed by mod
// (a nil value deletes a claim).
func claims(sub string, now time.Time, mod map[string]any) map[string]any {
	c := map[string]any{
		"iss": issuer, "sub": sub, "aud": audience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": fmt.Sprintf("jti-%d", now.UnixNano()), "sid": "sess-minted-by-test", "roles": []string{"user"},
	}
	for k, v := range mod {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// header is a JWS header for kid with alg and typ at+jwt, changed by mod.
func header(alg, kid string, mod map[string]any) map[string]any {
	h := map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}
	for k, v := range mod {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	return h
}

// sign returns the compact JWS of the raw header and payload JSON, signed
// with method and key (a signature of the given bytes when method is "").
func sign(t *testing.T, headerJSON, payloadJSON, method string, key any) string {
	t.Helper()
	input := b64(headerJSON) + "." + b64(payloadJSON)
	m := jwt.GetSigningMethod(method)
	if m == nil {
		t.Fatalf("no signing method %q", method)
	}
	sig, err := m.Sign(input, key)
	if err != nil {
		t.Fatalf("signing with %s: %v", method, err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// valid is a genuine token for sub, signed by the gateway's own ed key
// (as any replica would sign it).
func (k *keys) valid(t *testing.T, sub string, mod map[string]any) string {
	return sign(t, jsonOf(t, header("EdDSA", "ed", nil)), jsonOf(t, claims(sub, time.Now(), mod)), "EdDSA", k.ed)
}

// login signs in with the JSON form. In header mode it returns the
// tokens; in cookie mode the cookie value.
func login(t *testing.T, base, user string, headerMode bool) (access, refresh, cookie string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/.auth/login", strings.NewReader(`{"username":"`+user+`","password":"`+user+`-pw"}`))
	req.Header.Set("Content-Type", "application/json")
	if headerMode {
		req.Header.Set("X-Auth-Mode", "header")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != 200 {
		t.Fatalf("login as %s: %d", user, res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == "gatehouse" {
			cookie = c.Value
		}
	}
	if headerMode && (body.Access == "" || body.Refresh == "") || !headerMode && cookie == "" {
		t.Fatalf("login as %s (header mode %v) returned no credentials", user, headerMode)
	}
	return body.Access, body.Refresh, cookie
}
