package session

import (
	"errors"
	"testing"
)

// FuzzRoute: routing by iss never panics, rejects with the umbrella
// sentinel, and never picks an external verifier for a token whose iss is
// not exactly that issuer's.
func FuzzRoute(f *testing.F) {
	ext := &External{issuer: "https://idp.example"}
	is := NewIssuers("gatehouse", 4096, ext)
	f.Add(forge(`{"alg":"ES256","kid":"k"}`, `{"iss":"https://idp.example"}`, nil))
	f.Add(forge(`{"alg":"ES256"}`, `{"iss":"gatehouse"}`, nil))
	f.Add(forge(`{"alg":"ES256"}`, `{"iss":"x","ISS":"https://idp.example"}`, nil))
	f.Add(forge(`{"alg":"ES256"}`, `{"iss":1}`, nil))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		e, _, err := is.route(raw)
		if err != nil {
			if e != nil || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("route(%q) = %v, %v", raw, e, err)
			}
			return
		}
		if e != nil && e != ext {
			t.Fatalf("unknown verifier")
		}
		_, payload, _, _ := splitCompact(raw)
		iss, perr := payloadIssuer(payload)
		if perr != nil || (e == ext) != (iss == "https://idp.example") {
			t.Fatalf("routed %q to %v with iss %q (%v)", raw, e, iss, perr)
		}
	})
}
