package session

import (
	"errors"
	"net/http"
	"testing"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name      string
		values    []string
		wantToken string
		wantFound bool
		wantErr   error
	}{
		{"no header", nil, "", false, nil},
		{"basic passes through", []string{"Basic dXNlcjpwYXNz"}, "", false, nil},
		{"digest passes through", []string{`Digest username="u", realm="r"`}, "", false, nil},
		{"two non-bearer headers pass through", []string{"Basic a", "Negotiate b"}, "", false, nil},
		{"scheme merely starting with Bearer", []string{"Bearerx abc"}, "", false, nil},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", true, nil},
		{"lower-case scheme", []string{"bearer abc"}, "abc", true, nil},
		{"upper-case scheme", []string{"BEARER abc"}, "abc", true, nil},
		{"surrounding spaces", []string{"  Bearer   abc  "}, "abc", true, nil},
		{"tab separator", []string{"Bearer\tabc"}, "abc", true, nil},
		{"token68 alphabet and padding", []string{"Bearer aZ09-._~+/=="}, "aZ09-._~+/==", true, nil},
		{"bearer alone", []string{"Bearer"}, "", true, ErrMalformedAuthorization},
		{"bearer and spaces", []string{"Bearer   "}, "", true, ErrMalformedAuthorization},
		{"two tokens", []string{"Bearer a b"}, "", true, ErrMalformedAuthorization},
		{"comma", []string{"Bearer a,b"}, "", true, ErrMalformedAuthorization},
		{"two credentials", []string{"Bearer a, Basic b"}, "", true, ErrMalformedAuthorization},
		{"only padding", []string{"Bearer =="}, "", true, ErrMalformedAuthorization},
		{"padding inside", []string{"Bearer a=b"}, "", true, ErrMalformedAuthorization},
		{"CRLF", []string{"Bearer a\r\nX-Evil: 1"}, "", true, ErrMalformedAuthorization},
		{"trailing LF", []string{"Bearer a\n"}, "", true, ErrMalformedAuthorization},
		{"quoted", []string{`Bearer "a"`}, "", true, ErrMalformedAuthorization},
		{"non-ASCII", []string{"Bearer abcé"}, "", true, ErrMalformedAuthorization},
		{"two bearer headers", []string{"Bearer a", "Bearer b"}, "", true, ErrMalformedAuthorization},
		{"bearer and basic", []string{"Basic x", "Bearer a"}, "", true, ErrMalformedAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Authorization", v)
			}
			tok, found, err := BearerToken(h)
			if tok != tt.wantToken || found != tt.wantFound || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("BearerToken = %q, %v, %v; want %q, %v, %v", tok, found, err, tt.wantToken, tt.wantFound, tt.wantErr)
			}
		})
	}
}
