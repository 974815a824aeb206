package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

func TestAuthenticate(t *testing.T) {
	clock := newClock()
	ed := testKey(t, "EdDSA", "a")
	tk := newTestTokens(t, clock, ed)
	cookies, err := NewCookies(config.Cookie{}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := &Authenticator{Tokens: tk, Cookies: cookies}
	name := cookies.Name()

	mint := func(sub string) string {
		raw, _, err := tk.Mint(Identity{Subject: sub}, "sess-"+sub)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	valid, valid2 := mint("alice"), mint("bob")
	clock.Advance(-time.Hour)
	expired := mint("carol") // expired by an hour at the real test time
	clock.Advance(time.Hour)
	forged := forge(mustJSON(t, goodHeader(ed)), mustJSON(t, goodClaims(clock.Now())), signer(t, testKey(t, "EdDSA", "b")))

	tests := []struct {
		name        string
		auth        []string
		cookies     []string
		wantErr     error
		wantSubject string // "" means no principal
		wantBearer  bool
		wantCookie  *CookieValue
		wantClear   bool
	}{
		{name: "nothing", wantErr: ErrNoCredentials},
		{name: "other cookies only", cookies: nil, auth: []string{"Basic eA=="}, wantErr: ErrNoCredentials},
		{name: "bearer", auth: []string{"Bearer " + valid}, wantSubject: "alice", wantBearer: true},
		{name: "bearer wins over cookies", auth: []string{"Bearer " + valid}, cookies: []string{valid2, "junk!"}, wantSubject: "alice", wantBearer: true},
		{name: "invalid bearer does not fall back", auth: []string{"bearer " + forged}, cookies: []string{valid2}, wantErr: ErrBadSignature, wantBearer: true},
		{name: "expired bearer", auth: []string{"Bearer " + expired}, wantErr: ErrTokenExpired, wantBearer: true},
		{name: "malformed bearer is an error", auth: []string{"Bearer a b"}, cookies: []string{valid2}, wantErr: ErrMalformedAuthorization, wantBearer: true},
		{name: "two authorization headers", auth: []string{"Bearer " + valid, "Basic x"}, wantErr: ErrMalformedAuthorization, wantBearer: true},
		{name: "one valid cookie", cookies: []string{valid + "~refresh1"}, wantSubject: "alice", wantCookie: &CookieValue{valid, "refresh1"}},
		{name: "valid and junk copy: junk ignored, not cleared", cookies: []string{"junk", valid}, wantSubject: "alice", wantCookie: &CookieValue{Access: valid}},
		{name: "valid and forged copy", cookies: []string{valid, forged}, wantSubject: "alice", wantCookie: &CookieValue{Access: valid}},
		{name: "two valid copies", cookies: []string{valid, valid2}, wantErr: ErrDuplicateCookie, wantClear: true},
		{name: "the same valid token twice", cookies: []string{valid, valid}, wantErr: ErrDuplicateCookie, wantClear: true},
		{name: "valid and expired copies", cookies: []string{expired, valid}, wantErr: ErrDuplicateCookie, wantClear: true},
		{name: "expired genuine", cookies: []string{expired + "~r2"}, wantErr: ErrTokenExpired, wantCookie: &CookieValue{expired, "r2"}},
		{name: "forged", cookies: []string{forged}, wantErr: ErrBadSignature, wantClear: true},
		{name: "junk", cookies: []string{"a~b~c"}, wantErr: ErrMalformedToken, wantClear: true},
		{name: "first error reported", cookies: []string{"x", forged}, wantErr: ErrMalformedToken, wantClear: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://app.example/x", nil)
			for _, v := range tt.auth {
				r.Header.Add("Authorization", v)
			}
			r.Header.Add("Cookie", "other=1")
			for _, v := range tt.cookies {
				r.Header.Add("Cookie", name+"="+v)
			}
			res, err := a.Authenticate(r)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			switch {
			case tt.wantSubject == "" && res.Principal != nil:
				t.Errorf("principal %+v, want none", res.Principal)
			case tt.wantSubject != "" && (res.Principal == nil || res.Principal.Subject != tt.wantSubject):
				t.Errorf("principal %+v, want subject %q", res.Principal, tt.wantSubject)
			}
			if res.Bearer != tt.wantBearer || res.ClearCookie != tt.wantClear {
				t.Errorf("Bearer %v ClearCookie %v, want %v %v", res.Bearer, res.ClearCookie, tt.wantBearer, tt.wantClear)
			}
			if (res.Cookie == nil) != (tt.wantCookie == nil) || res.Cookie != nil && *res.Cookie != *tt.wantCookie {
				t.Errorf("Cookie %+v, want %+v", res.Cookie, tt.wantCookie)
			}
		})
	}
}
