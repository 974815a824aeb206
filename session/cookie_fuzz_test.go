package session

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

// FuzzAuthenticateCookies is the Cookie header as the Authenticator and
// the proxy see it: every line of the input is one Cookie header line,
// with a genuine token wherever the input says {{tok}}. Invariants: no
// panic; every error matches a sentinel the proxy turns into a 4xx; a
// principal comes from exactly one genuine copy and is the minted one;
// several genuine copies are refused and cleared; and StripFrom leaves no
// copy of the session cookie for the upstream while keeping the others.
// Seeds are also in testdata/fuzz/FuzzAuthenticateCookies.
func FuzzAuthenticateCookies(f *testing.F) {
	for _, s := range []string{
		"__Host-gatehouse={{tok}}", "a=1; __Host-gatehouse={{tok}}; b=2", "__Host-gatehouse={{tok}}\n__Host-gatehouse={{tok}}",
		"__Host-gatehouse=junk; __Host-gatehouse={{tok}}", `__Host-gatehouse="{{tok}}"`, " __Host-gatehouse = {{tok}} ;",
		"__Host-gatehouse={{tok}}~", "__host-gatehouse={{tok}}", "__Host-gatehouse", ";;;=;", "__Host-gatehouse={{tok}}~r~r",
	} {
		f.Add(s)
	}
	tk := fuzzTokens(f)
	tok, minted, err := tk.Mint(testIdentity, "sess-1")
	if err != nil {
		f.Fatal(err)
	}
	cookies, err := NewCookies(config.Cookie{}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	a := &Authenticator{Tokens: tk, Cookies: cookies}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1<<12 {
			return
		}
		in = strings.ReplaceAll(in, "{{tok}}", tok)
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = strings.Split(in, "\n")
		res, err := a.Authenticate(r)
		switch {
		case err == nil:
			if res.Principal == nil || res.Principal.TokenID != minted.TokenID || res.ClearCookie || res.Bearer {
				t.Fatalf("Authenticate(%q) = %+v without error", in, res)
			}
		case errors.Is(err, ErrDuplicateCookie):
			if !res.ClearCookie || res.Principal != nil || strings.Count(in, tok) < 2 {
				t.Fatalf("Authenticate(%q): duplicate, result %+v", in, res)
			}
		case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrInvalidToken), errors.Is(err, ErrTokenExpired):
			if res.Principal != nil {
				t.Fatalf("Authenticate(%q) = %+v with %v", in, res, err)
			}
		default:
			t.Fatalf("Authenticate(%q): error %v matches no sentinel", in, err)
		}

		// What the upstream would get.
		others := len(r.Cookies()) - len(r.CookiesNamed(cookies.Name()))
		h := r.Header.Clone()
		cookies.StripFrom(h)
		stripped := &http.Request{Header: h}
		if n := len(stripped.CookiesNamed(cookies.Name())); n != 0 {
			t.Fatalf("StripFrom(%q) left %d session cookie(s): %q", in, n, h["Cookie"])
		}
		if got := len(stripped.Cookies()); got != others {
			t.Fatalf("StripFrom(%q) kept %d other cookies, want %d: %q", in, got, others, h["Cookie"])
		}
	})
}
