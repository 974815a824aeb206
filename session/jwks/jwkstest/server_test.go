package jwkstest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/session/jwks/jwkstest"
)

// get fetches url and decodes its JSON body into v (when status is 200).
func get(t *testing.T, url string, v any) (int, http.Header) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, res.Header
}

// TestSignVerifiesWithPublishedKey checks each alg with go-jose, an
// implementation independent of the gateway's, against the served set.
func TestSignVerifiesWithPublishedKey(t *testing.T) {
	s := jwkstest.NewServer(t)
	algs := []string{"ES256", "RS256", "PS256", "EdDSA"}
	for _, alg := range algs {
		s.AddKey(t, "k-"+alg, alg)
	}
	var set jose.JSONWebKeySet
	if code, _ := get(t, s.JWKSURL, &set); code != 200 || len(set.Keys) != len(algs) {
		t.Fatalf("JWKS: %d, %d keys", code, len(set.Keys))
	}
	for _, alg := range algs {
		raw := s.Sign(t, "k-"+alg, alg, jwt.MapClaims{"sub": alg}, map[string]any{"typ": "at+jwt"})
		tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		var c josejwt.Claims
		if err := tok.Claims(set.Key("k-" + alg)[0].Key, &c); err != nil || c.Subject != alg {
			t.Fatalf("%s: claims %v, err %v", alg, c, err)
		}
		if tok.Headers[0].ExtraHeaders["typ"] != "at+jwt" {
			t.Fatalf("%s: header override lost: %v", alg, tok.Headers[0])
		}
	}
	s.Remove("k-ES256")
	if get(t, s.JWKSURL, &set); len(set.Key("k-ES256")) != 0 || len(set.Keys) != len(algs)-1 {
		t.Fatalf("after Remove: %d keys", len(set.Keys))
	}
}

func TestDownCacheControlFetchesDiscovery(t *testing.T) {
	s := jwkstest.NewServer(t)
	s.AddJWK(map[string]any{"kty": "oct", "kid": "o", "k": "AAAA"})
	s.SetCacheControl("max-age=60")
	var body struct{ Keys []map[string]any }
	if code, h := get(t, s.JWKSURL, &body); code != 200 || h.Get("Cache-Control") != "max-age=60" || len(body.Keys) != 1 || body.Keys[0]["kid"] != "o" {
		t.Fatalf("JWKS: %d %v %v", code, h, body)
	}
	var meta map[string]string
	if code, _ := get(t, s.URL+"/.well-known/openid-configuration", &meta); code != 200 || meta["issuer"] != s.URL || meta["jwks_uri"] != s.JWKSURL {
		t.Fatalf("discovery: %d %v", code, meta)
	}
	s.SetDown(http.StatusBadGateway)
	if code, _ := get(t, s.JWKSURL, nil); code != http.StatusBadGateway {
		t.Fatalf("down: %d, want 502", code)
	}
	if code, _ := get(t, s.URL+"/.well-known/openid-configuration", nil); code != http.StatusBadGateway {
		t.Fatalf("discovery down: %d, want 502", code)
	}
	s.SetDown(0)
	if code, _ := get(t, s.JWKSURL+"/v2", &body); code != 200 {
		t.Fatalf("below JWKSURL: %d", code)
	}
	if n := s.Fetches(); n != 3 {
		t.Fatalf("%d fetches, want 3 (discovery is not counted)", n)
	}
}
