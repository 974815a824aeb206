package policy

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// testOrigins are the allowed origins of the return-URL tests. The last
// one is written in a non-canonical spelling on purpose.
var testOrigins = []string{
	"https://app.example.com",
	"http://localhost:8080",
	"https://[2001:db8::1]",
	"HTTPS://Static.Example.COM:443/",
}

// hostileReturnTo are return URLs that MUST be refused ("/"): each one
// either leaves this host for an origin not in testOrigins, or would to
// some browser, proxy or application that decodes or normalises it. Many
// are from public open-redirect corpora (PayloadsAllTheThings, the
// OWASP cheat sheet, HackerOne reports).
var hostileReturnTo = []string{
	// Scheme-relative and its spellings.
	"//evil.com", "///evil.com", "////evil.com", "//evil.com/", "//evil.com/%2f..",
	"//app.example.com", // protocol-relative, even to an allowed host
	`/\evil.com`, `\/evil.com`, `\\evil.com`, `/\/evil.com`, `\evil.com`,
	"/%2F%2Fevil.com", "/%2f%2fevil.com", "/%2F/evil.com", "/%5Cevil.com", "/%5cevil.com",
	"/%5C%5Cevil.com", "%2F%2Fevil.com",
	// Double and triple encoding, and encodings that build an escape.
	"/%252F%252Fevil.com", "/%252f%252fevil.com", "/%255Cevil.com", "/%25252F%25252Fevil.com",
	"/%2525252F%2525252Fevil.com", // four times over: beyond the bound
	"/%%32%46%%32%46evil.com",     // "%2F%2F" once decoded
	"/%252e%252e//evil.com",
	// Control characters, raw and encoded: browsers strip tab and newlines.
	"/\t/evil.com", "/%09/evil.com", "/\n/evil.com", "/%0a/evil.com", "/\r/evil.com",
	"/%0D/evil.com", "/\x00/evil.com", "/%00/evil.com", "/\x7f", "/%7F",
	"/app\r\nLocation: https://evil.com", "/app%0d%0aSet-Cookie:%20a=b",
	"/app?x=%0a", "/app#\x00", "/app?x=%2509", // encoded controls in query and fragment
	"\t//evil.com", " //evil.com", "/\u0085/evil.com", "/%C2%85/evil.com", // NEL, a C1 control
	"https://app.example.com\t.evil.com", "https://app.example.com/\n",
	// Dot segments, which RFC 3986 removal turns into "//".
	"/..//evil.com", "/.//evil.com", "/%2e%2e//evil.com", "/.%2e/%2Fevil.com", "/app/../x",
	"/app/./x", "/app/..", "/app%2F..%2F..%2F%2Fevil.com",
	// Backslashes in the path, raw or encoded.
	`/app\..\evil`, "/app%5C..", `https://app.example.com\@evil.com`, `https://evil.com\@app.example.com`,
	`https://app.example.com\evil.com`, "https://app.example.com/%5C%5Cevil.com",
	// Sloppy http(s), which browsers resolve anyway.
	"https:evil.com", "http:evil.com", "http:/evil.com", "https:/\\evil.com", `http:\\evil.com`,
	"https:///evil.com", "https:////evil.com", "https://", "https://:443", "http://:80/x",
	// Other schemes, in any case and with any trick.
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", "javascript://app.example.com/%0aalert(1)",
	"javascript://%0aalert(1)", "java\tscript:alert(1)", "\x01javascript:alert(1)",
	"jAvAsCrIpT%3aalert(1)", "data:text/html,<script>alert(1)</script>",
	"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(1)", "VBSCRIPT:x",
	"ftp://app.example.com/", "ws://app.example.com/", "wss://app.example.com/", "file:///etc/passwd",
	"blob:https://app.example.com/1b2c", "view-source:https://app.example.com/", "mailto:a@evil.com",
	"tel:+1555", "HTTPS:evil.com", "httpss://app.example.com", "http//evil.com",
	// Userinfo, even in front of an allowed host.
	"https://app.example.com@evil.com", "https://app.example.com:443@evil.com",
	"https://user:pass@app.example.com/", "https://@app.example.com", "https://evil.com@app.example.com",
	"https://app.example.com%40evil.com", "https://app.example.com&@evil.com#@app.example.com",
	// Origins that are not allowed, and look-alikes of allowed ones.
	"https://evil.com", "http://evil.com/", "HTTPS://EVIL.COM", "https://app.example.com.evil.net",
	"https://app.example.com.evil.net/x", "https://evilapp.example.com", "https://app-example.com",
	"https://app.example.co", "https://example.com", "https://x.app.example.com",
	"https://app.example.com.", // the absolute DNS form is a different origin to browsers
	"http://app.example.com",   // scheme not allowed for this host
	"https://app.example.com:8443/", "https://app.example.com:0443x", "https://app.example.com:99999",
	"https://app.example.com:-1", "https://app.example.com:443:443", "https://localhost:8080",
	"http://localhost", "http://localhost:8081", "http://127.0.0.1:8080", "http://[::1]:8080",
	"https://[2001:db8::2]", "https://[2001:db8::1%25eth0]", "https://[2001:db8::1]x", "https://[]",
	"https://2001:db8::1", "http://0x7f.0x0.0x0.0x1", "http://2130706433", "https://169.254.169.254/",
	"https://evil.com?https://app.example.com", "https://evil.com#https://app.example.com",
	"https://evil.com/https://app.example.com", "https://evil.com/app.example.com",
	"https://evil.com%23.app.example.com", "https://app.example.com%2eevil.com",
	"https://app.example.com%00.evil.com", "https://evil.com%2F@app.example.com",
	// Internationalised look-alikes: Unicode hosts are refused outright,
	// punycode ones are other origins.
	"https://аpp.example.com", "https://app.exampIe.com", "https://app.example.com。evil.com",
	"https://app.example.com／evil.com", "https://evil.c℀.example.com", "https://ａｐｐ.example.com",
	"https://xn--pp-8cd.example.com", "https://xn--80ak6aa92e.com",
	// Not a path on this host.
	"evil.com", "www.evil.com", "../x", "./x", "x/y", "?next=/", "#/", " /app", "%2Fapp",
	"〱evil.com", "〵evil.com", "ゝevil.com", "ーevil.com", "ｰevil.com",
	// Invalid UTF-8.
	"/\xff", "/\xc0\xaf", "https://app.example.com/\xfe",
	// Too long.
	"/" + strings.Repeat("a", MaxReturnToLength),
	"https://app.example.com/" + strings.Repeat("a", MaxReturnToLength),
}

// TestReturnToRefuses checks that every hostile return URL falls back to
// "/", through ReturnTo and through a compiled ReturnPolicy.
func TestReturnToRefuses(t *testing.T) {
	if len(hostileReturnTo) < 60 {
		t.Fatalf("only %d hostile payloads", len(hostileReturnTo))
	}
	p, err := NewReturnPolicy(testOrigins)
	if err != nil {
		t.Fatal(err)
	}
	for _, rd := range append(hostileReturnTo, "") {
		t.Run(strconv.Quote(short(rd)), func(t *testing.T) {
			if got := ReturnTo(rd, testOrigins); got != "/" {
				t.Errorf("ReturnTo(%q) = %q, want %q", rd, got, "/")
			}
			if got, ok := p.Validate(rd); got != "/" || ok {
				t.Errorf("Validate(%q) = %q, %v; want %q, false", rd, got, ok, "/")
			}
		})
	}
}

// TestReturnToAccepts checks return URLs that MUST be kept exactly as
// written.
func TestReturnToAccepts(t *testing.T) {
	accepted := []string{
		"/", "/app", "/app/", "/app/x?y=1&z=%2F#frag", "/a%20b", "/a b", "/%E2%9C%93", "/✓",
		"/app?next=/x", "/app?q=a\\b", "/app#x\\y", // a backslash after the path is data
		"/?//evil.com", "/#//evil.com", // a query or fragment on this host
		"/.evil.com", "/https://evil.com", "/a//b", // paths on this host, whatever they spell
		"/.well-known/x", "/...", "/..a", "/a%2Fb", "/a%2e%2ex", "/100%", "/%zz", "/%2",
		"/search?q=100%25", "/x?a=%252F", "/x?u=%25252F", // decodes to "%2F": still data
		"/" + strings.Repeat("a", MaxReturnToLength-1),
		"https://app.example.com", "https://app.example.com/", "https://app.example.com/x?y=1#z",
		"https://app.example.com?x", "https://app.example.com#x", "https://app.example.com:443/x",
		"https://app.example.com:/x", "https://app.example.com:0443/x", "HTTPS://App.Example.COM/Path",
		"https://static.example.com/a.css", "https://STATIC.example.com:443",
		"http://localhost:8080/x", "http://LOCALHOST:8080", "https://[2001:db8::1]/x",
		"https://[2001:DB8::1]:443",
	}
	p, err := NewReturnPolicy(testOrigins)
	if err != nil {
		t.Fatal(err)
	}
	for _, rd := range accepted {
		t.Run(strconv.Quote(short(rd)), func(t *testing.T) {
			if got := ReturnTo(rd, testOrigins); got != rd {
				t.Errorf("ReturnTo(%q) = %q, want it unchanged", rd, got)
			}
			if got, ok := p.Validate(rd); got != rd || !ok {
				t.Errorf("Validate(%q) = %q, %v; want it unchanged, true", rd, got, ok)
			}
		})
	}
}

// TestReturnToWithoutOrigins checks that with no allowed origins (nil,
// empty or zero policy) only paths on this host are accepted.
func TestReturnToWithoutOrigins(t *testing.T) {
	var nilPolicy *ReturnPolicy
	for name, validate := range map[string]func(string) (string, bool){
		"nil":   nilPolicy.Validate,
		"zero":  (&ReturnPolicy{}).Validate,
		"empty": mustReturnPolicy(t, nil).Validate,
	} {
		t.Run(name, func(t *testing.T) {
			if got, ok := validate("/app?x=1"); got != "/app?x=1" || !ok {
				t.Errorf(`Validate("/app?x=1") = %q, %v`, got, ok)
			}
			if got, ok := validate("https://app.example.com/"); got != "/" || ok {
				t.Errorf(`Validate("https://app.example.com/") = %q, %v`, got, ok)
			}
		})
	}
}

// TestNewReturnPolicyOrigins checks the canonical comparison of origins
// and that unusable ones are errors matching ErrInvalidOrigin.
func TestNewReturnPolicyOrigins(t *testing.T) {
	equivalent := []struct{ allowed, rd string }{
		{"https://App.Example.com:443", "https://app.example.com/x"},
		{"https://app.example.com", "https://APP.EXAMPLE.COM:443/x"},
		{"https://app.example.com/", "https://app.example.com/x"},
		{"http://app.example.com:80", "http://app.example.com/x"},
		{"HTTP://app.example.com", "http://app.example.com:80/x"},
		{"http://app.example.com:8080", "http://app.example.com:08080/x"},
		{"https://[2001:DB8::1]:443", "https://[2001:db8::1]/x"},
	}
	for _, tt := range equivalent {
		if got := ReturnTo(tt.rd, []string{tt.allowed}); got != tt.rd {
			t.Errorf("ReturnTo(%q, [%q]) = %q, want it unchanged", tt.rd, tt.allowed, got)
		}
	}

	invalid := []string{
		"app.example.com", "//app.example.com", "ftp://app.example.com", "https:app.example.com",
		"https://", "https://user@app.example.com", "https://app.example.com/app",
		"https://app.example.com?x", "https://app.example.com/?x", "https://app.example.com#x",
		"https://app.example.com:99999", "https://app.example.com:x", "https://аpp.example.com",
		"https://app.example.com\\", "https://app.example.com%2F", "https://[::1", " https://app.example.com",
	}
	for _, o := range invalid {
		t.Run(strconv.Quote(o), func(t *testing.T) {
			p, err := NewReturnPolicy([]string{"https://ok.example.com", o})
			if !errors.Is(err, ErrInvalidOrigin) || p != nil {
				t.Fatalf("NewReturnPolicy(%q) = %v, %v; want nil, ErrInvalidOrigin", o, p, err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(o)) {
				t.Errorf("error %q does not name the origin", err)
			}
			// ReturnTo ignores it and keeps the valid one.
			if got := ReturnTo("https://ok.example.com/x", []string{o, "https://ok.example.com"}); got != "https://ok.example.com/x" {
				t.Errorf("ReturnTo with %q among the origins = %q", o, got)
			}
		})
	}

	_, err := NewReturnPolicy([]string{"https://a.example.com/x", "ok", "https://b.example.com"})
	if n := strings.Count(err.Error(), "\n") + 1; n != 2 {
		t.Errorf("NewReturnPolicy reported %d problems, want both: %v", n, err)
	}
}

// FuzzReturnTo checks the contract the login and logout endpoints rely
// on: whatever rd is, the result is "/", a path on this host that no
// browser reads as another host, or a URL whose origin (as net/url reads
// it) is allowed; and validating the result again gives it back.
func FuzzReturnTo(f *testing.F) {
	for _, s := range hostileReturnTo {
		// The over-long seeds are left to the table test: they are refused
		// at once, and minimising a 2 KiB input stalls the fuzzer.
		if len(s) <= MaxReturnToLength {
			f.Add(s)
		}
	}
	for _, s := range []string{"/", "/app/x?y=1&z=%2F#frag", "https://app.example.com/x", "HTTPS://Static.example.com:0443"} {
		f.Add(s)
	}
	p := mustReturnPolicy(f, testOrigins)
	f.Fuzz(func(t *testing.T, rd string) {
		out, ok := p.Validate(rd)
		if got := ReturnTo(rd, testOrigins); got != out {
			t.Fatalf("ReturnTo(%q) = %q but Validate gives %q", rd, got, out)
		}
		if ok != (out == rd && rd != "") || !ok && out != "/" {
			t.Fatalf("Validate(%q) = %q, %v", rd, out, ok)
		}
		switch {
		case out == "/":
		case strings.HasPrefix(out, "/"):
			if strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") {
				t.Fatalf("Validate(%q) = %q: another host", rd, out)
			}
		default:
			if !allowedByNetURL(out) {
				t.Fatalf("Validate(%q) = %q: net/url does not read an allowed origin", rd, out)
			}
		}
		if strings.ContainsFunc(out, func(r rune) bool { return r < 0x20 || 0x7f <= r && r <= 0x9f }) {
			t.Fatalf("Validate(%q) = %q: control character", rd, out)
		}
		if again, ok := p.Validate(out); again != out || !ok {
			t.Fatalf("Validate(%q) = %q, but Validate(%q) = %q, %v", rd, out, out, again, ok)
		}
	})
}

// allowedByNetURL is an independent reading of an absolute return URL's
// origin, by net/url, compared with testOrigins also read by net/url.
func allowedByNetURL(s string) bool {
	// Only the scheme and authority are parsed: net/url refuses some
	// paths (such as "/%zz") that browsers accept.
	i := strings.Index(s, "://") + 3
	if i < 3 {
		return false
	}
	if j := strings.IndexAny(s[i:], "/?#"); j >= 0 {
		s = s[:i+j]
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Host == "" {
		return false
	}
	for _, a := range testOrigins {
		au, err := url.Parse(a)
		if err != nil {
			panic(err)
		}
		if au.Scheme == strings.ToLower(u.Scheme) && strings.EqualFold(au.Hostname(), u.Hostname()) &&
			portOf(au) == portOf(u) {
			return true
		}
	}
	return false
}

func portOf(u *url.URL) int {
	if u.Port() == "" {
		if strings.EqualFold(u.Scheme, "http") {
			return 80
		}
		return 443
	}
	n, err := strconv.Atoi(u.Port())
	if err != nil {
		return -1
	}
	return n
}

// BenchmarkReturnPolicyValidate measures the login path's return-URL
// check on typical and hostile input.
func BenchmarkReturnPolicyValidate(b *testing.B) {
	p := mustReturnPolicy(b, testOrigins)
	for _, rd := range []string{
		"/app/orders/42?tab=lines#top",
		"https://static.example.com/app/orders/42?tab=lines",
		"/%252F%252Fevil.com",
	} {
		b.Run(rd, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Validate(rd)
			}
		})
	}
}

func mustReturnPolicy(tb testing.TB, origins []string) *ReturnPolicy {
	tb.Helper()
	p, err := NewReturnPolicy(origins)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// short keeps subtest names readable for the long payloads.
func short(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
