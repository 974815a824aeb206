package session

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzTokens verifies with the deterministic fixedEdKey at t0, so seed
// tokens stored under testdata/fuzz/FuzzVerify stay valid.
func fuzzTokens(t testing.TB) *Tokens {
	return newTestTokens(t, newClock(), fixedEdKey(t), testKey(t, "HS256", "a"))
}

func FuzzVerify(f *testing.F) {
	tk := fuzzTokens(f)
	raw, _, err := tk.Mint(testIdentity, "sess-1")
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(raw, ".")
	f.Add(raw)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".e30." + parts[2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := tk.Verify(raw)
		if err != nil {
			if p != nil {
				t.Fatalf("principal %+v with error %v", p, err)
			}
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("error matches no umbrella sentinel: %v", err)
			}
			return
		}
		if p == nil || p.Subject == "" || p.SessionID == "" || p.TokenID == "" || p.ExpiresAt.IsZero() {
			t.Fatalf("accepted %q with an incomplete principal %+v", raw, p)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer abc.def.ghi")
	f.Add("bearer  a=")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("Bearer a\nBearer b")
	f.Add("Bearer a b")
	f.Fuzz(func(t *testing.T, in string) {
		// Each line of the input is one Authorization header line.
		h := http.Header{"Authorization": strings.Split(in, "\n")}
		tok, found, err := BearerToken(h)
		switch {
		case err != nil:
			if !errors.Is(err, ErrMalformedAuthorization) || !found || tok != "" {
				t.Fatalf("BearerToken(%q) = %q, %v, %v", in, tok, found, err)
			}
		case found:
			if !isToken68(tok) || !strings.Contains(in, tok) || strings.Contains(in, "\n") {
				t.Fatalf("BearerToken(%q) = %q, accepted", in, tok)
			}
		default:
			if tok != "" {
				t.Fatalf("BearerToken(%q) = %q without found", in, tok)
			}
			for _, line := range h["Authorization"] {
				if isBearerScheme(line) {
					t.Fatalf("BearerToken(%q) ignored a Bearer line", in)
				}
			}
		}
	})
}

func FuzzDecodeCookieValue(f *testing.F) {
	f.Add("a.b.c")
	f.Add("a.b.c~refresh")
	f.Add("a~b~c")
	f.Add("~")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := DecodeCookieValue(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedToken) || v != (CookieValue{}) {
				t.Fatalf("DecodeCookieValue(%q) = %+v, %v", s, v, err)
			}
			return
		}
		if v.Access == "" || v.Encode() != s {
			t.Fatalf("DecodeCookieValue(%q) = %+v, which encodes to %q", s, v, v.Encode())
		}
		if _, err := DecodeCookieValue(v.Encode()); err != nil {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

// TestFuzzSeedTokensVerify keeps the stored FuzzVerify seeds meaningful:
// the valid-* ones must still verify (a change to the claims or to the
// fixed key would otherwise quietly turn them into rejections).
func TestFuzzSeedTokensVerify(t *testing.T) {
	tk := fuzzTokens(t)
	for _, name := range []string{"valid-eddsa", "valid-hs256"} {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzVerify", name))
		if err != nil {
			t.Fatal(err)
		}
		_, quoted, _ := strings.Cut(strings.TrimSpace(string(b)), "string(")
		raw, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p, err := tk.Verify(raw); err != nil || p.Subject == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
