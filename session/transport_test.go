package session

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

func boolPtr(b bool) *bool { return &b }

func TestCookieValueEncoding(t *testing.T) {
	for _, v := range []CookieValue{
		{Access: "a.b.c"},
		{Access: "eyJ.eyJ.sig-_", Refresh: "r3fr3sh_-.x"},
	} {
		enc := v.Encode()
		got, err := DecodeCookieValue(enc)
		if err != nil || got != v {
			t.Errorf("DecodeCookieValue(%q) = %+v, %v; want %+v", enc, got, err, v)
		}
	}
	if got := (CookieValue{Access: "a", Refresh: "r"}).Encode(); got != "a~r" {
		t.Errorf("Encode = %q", got)
	}
	for _, junk := range []string{"", "~", "~r", "a~", "a~b~c", "a b", "a;b", "a,b", `"a"`, "a=", "a+b", "a/b", "a\x00", "é", "a~r~"} {
		if v, err := DecodeCookieValue(junk); !errors.Is(err, ErrMalformedToken) || !errors.Is(err, ErrInvalidToken) {
			t.Errorf("DecodeCookieValue(%q) = %+v, %v; want ErrMalformedToken", junk, v, err)
		}
	}
}

func TestNewCookiesName(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Cookie
		want string
	}{
		{"defaults: host-only, secure, root", config.Cookie{}, "__Host-gatehouse"},
		{"explicit secure root", config.Cookie{Path: "/", Secure: boolPtr(true), SameSite: "strict"}, "__Host-gatehouse"},
		{"domain", config.Cookie{Domain: "example.com"}, "gatehouse"},
		{"not secure", config.Cookie{Secure: boolPtr(false)}, "gatehouse"},
		{"sub path", config.Cookie{Path: "/app"}, "gatehouse"},
		{"explicit name", config.Cookie{Name: "sid"}, "sid"},
		{"explicit __Host- name", config.Cookie{Name: "__Host-s"}, "__Host-s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCookies(tt.cfg, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != tt.want {
				t.Fatalf("Name() = %q, want %q", c.Name(), tt.want)
			}
		})
	}
}

func TestNewCookiesErrors(t *testing.T) {
	tests := []struct {
		name      string
		cfg       config.Cookie
		maxAge    time.Duration
		wantField string
	}{
		{"same_site none without secure", config.Cookie{SameSite: "none", Secure: boolPtr(false)}, time.Hour, "cookie.same_site"},
		{"unknown same_site", config.Cookie{SameSite: "sometimes"}, time.Hour, "cookie.same_site"},
		{"__Host- with domain", config.Cookie{Name: "__Host-x", Domain: "example.com"}, time.Hour, "cookie.name"},
		{"__Host- with path", config.Cookie{Name: "__Host-x", Path: "/app"}, time.Hour, "cookie.name"},
		{"__Host- insecure", config.Cookie{Name: "__Host-x", Secure: boolPtr(false)}, time.Hour, "cookie.name"},
		{"__Secure- insecure", config.Cookie{Name: "__Secure-x", Secure: boolPtr(false)}, time.Hour, "cookie.name"},
		{"bad name", config.Cookie{Name: "a b"}, time.Hour, "cookie.name"},
		{"bad domain", config.Cookie{Domain: "exa mple.com"}, time.Hour, "cookie.domain"},
		{"relative path", config.Cookie{Path: "app"}, time.Hour, "cookie.path"},
		{"path with ;", config.Cookie{Path: "/a;b"}, time.Hour, "cookie.path"},
		{"no max-age", config.Cookie{}, 0, "session.absolute_lifetime"},
		{"__host- in lower case", config.Cookie{Name: "__host-x", Secure: boolPtr(false)}, time.Hour, "cookie.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCookies(tt.cfg, tt.maxAge)
			fes := config.FieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("NewCookies = %v, %v; want one FieldError", c, err)
			}
			if fes[0].Field != tt.wantField || fes[0].Fix == "" {
				t.Fatalf("field %q fix %q, want %q and a fix", fes[0].Field, fes[0].Fix, tt.wantField)
			}
		})
	}
}

func TestNewCookiesAllProblems(t *testing.T) {
	_, err := NewCookies(config.Cookie{Name: "__Host-x", SameSite: "none", Secure: boolPtr(false), Path: "app"}, 0)
	var got []string
	for _, fe := range config.FieldErrors(err) {
		got = append(got, fe.Field)
	}
	want := []string{"cookie.same_site", "cookie.name", "cookie.path", "session.absolute_lifetime"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields %q, want %q", got, want)
	}
}

// setCookies returns the Set-Cookie lines of h, parsed.
func setCookies(t *testing.T, h http.Header) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("ParseSetCookie(%q): %v", line, err)
		}
		out = append(out, c)
	}
	return out
}

func TestCookiesSetAndClear(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config.Cookie
		wantName string
		want     http.Cookie // attributes only
	}{
		{
			"defaults", config.Cookie{}, "__Host-gatehouse",
			http.Cookie{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode},
		},
		{
			"domain, strict", config.Cookie{Domain: "example.com", Path: "/", SameSite: "strict"}, "gatehouse",
			http.Cookie{Path: "/", Domain: "example.com", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode},
		},
		{
			"insecure dev, path", config.Cookie{Secure: boolPtr(false), Path: "/app", SameSite: "Lax"}, "gatehouse",
			http.Cookie{Path: "/app", Secure: false, HttpOnly: true, SameSite: http.SameSiteLaxMode},
		},
		{
			"same_site none", config.Cookie{Name: "s", SameSite: "none"}, "s",
			http.Cookie{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCookies(tt.cfg, 7*24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			c.Set(h, CookieValue{Access: "a.b.c", Refresh: "r_1"})
			set := setCookies(t, h)
			if len(set) != 1 {
				t.Fatalf("%d Set-Cookie headers, want 1: %q", len(set), h.Values("Set-Cookie"))
			}
			got := *set[0]
			got.Raw = ""
			want := tt.want
			want.Name, want.Value, want.MaxAge = tt.wantName, "a.b.c~r_1", 7*24*3600
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Set-Cookie %q\n got %+v\nwant %+v", h.Get("Set-Cookie"), got, want)
			}

			h = http.Header{}
			c.Clear(h)
			cleared := setCookies(t, h)
			if len(cleared) != 1 {
				t.Fatalf("%d Set-Cookie headers, want 1", len(cleared))
			}
			cl := cleared[0]
			if cl.Name != got.Name || cl.Path != got.Path || cl.Domain != got.Domain || cl.Secure != got.Secure ||
				cl.HttpOnly != got.HttpOnly || cl.SameSite != got.SameSite {
				t.Fatalf("Clear %q does not mirror Set %q", cl.Raw, set[0].Raw)
			}
			if cl.Value != "" || cl.MaxAge != -1 || !strings.Contains(cl.Raw, "Max-Age=0") || !cl.Expires.Before(t0) {
				t.Fatalf("Clear %q: value %q, MaxAge %d, Expires %v", cl.Raw, cl.Value, cl.MaxAge, cl.Expires)
			}
		})
	}
}

func TestCookiesSetRefusesUnsafeValue(t *testing.T) {
	c, err := NewCookies(config.Cookie{}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []CookieValue{{Access: "a;b"}, {Access: ""}, {Access: "a", Refresh: "x y"}} {
		h := http.Header{}
		c.Set(h, v)
		set := setCookies(t, h)
		if len(set) != 1 || set[0].Value != "" || set[0].MaxAge != -1 {
			t.Errorf("Set(%+v) wrote %q, want a clear", v, h.Values("Set-Cookie"))
		}
	}
}

func TestCookiesStripFrom(t *testing.T) {
	c, err := NewCookies(config.Cookie{Name: "gh"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []string
		want []string // nil: header deleted
	}{
		{"ours only", []string{"gh=abc"}, nil},
		{"ours twice", []string{"gh=a; gh=b"}, nil},
		{"ours first", []string{"gh=abc; a=1; b=2"}, []string{"a=1; b=2"}},
		{"ours in the middle", []string{"a=1; gh=abc; b=2"}, []string{"a=1; b=2"}},
		{"ours last", []string{"a=1; gh=abc"}, []string{"a=1"}},
		{"others byte-for-byte", []string{`x="q v";gh=1; y=%20; z`}, []string{`x="q v"; y=%20; z`}},
		{"untouched line kept exactly", []string{"  a=1;b=2  "}, []string{"  a=1;b=2  "}},
		{"similar names kept", []string{"ghx=1; xgh=2; GH=3; gh=4; g=5"}, []string{"ghx=1; xgh=2; GH=3; g=5"}},
		{"spaces around our name", []string{"a=1;  gh =x ; b=2"}, []string{"a=1; b=2"}},
		{"ours without value", []string{"a=1; gh"}, []string{"a=1"}},
		{"several lines", []string{"a=1", "gh=x", "b=2; gh=y"}, []string{"a=1", "b=2"}},
		{"empty segments only left", []string{"gh=x;;"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": append([]string(nil), tt.in...), "Other": {"kept"}}
			c.StripFrom(h)
			got, ok := h["Cookie"]
			if tt.want == nil {
				if ok {
					t.Fatalf("Cookie header kept: %q", got)
				}
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Cookie = %q, want %q", got, tt.want)
			}
			if h.Get("Other") != "kept" {
				t.Fatal("another header was touched")
			}
			r := &http.Request{Header: h}
			if n := len(r.CookiesNamed("gh")); n != 0 {
				t.Fatalf("%d cookies of our name remain", n)
			}
		})
	}
	h := http.Header{}
	c.StripFrom(h)
	if _, ok := h["Cookie"]; ok {
		t.Fatal("StripFrom created a Cookie header")
	}
}
