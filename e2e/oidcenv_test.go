package e2e

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/e2etest"
	"golang.org/x/net/html"
)

// oidcSecret is the gateway's session.secret in the OIDC tests: knowing
// it, a test can forge a correctly signed state cookie.
const oidcSecret = "e2e-oidc-session-secret-0123456789abcdef"

// oidcNode returns the path of node, having installed e2e/oidc's
// dependencies (oidc-provider). Without node the test is skipped, except
// in CI, where a skipped test would be a false pass.
func oidcNode(t *testing.T) string {
	t.Helper()
	const install = "`apt-get install nodejs npm`"
	node := e2etest.FindProgram(t, "node", install)
	e2etest.NodeModules(t, "oidc", "oidc-provider", install)
	return node
}

// idpClient is a client registration at the test provider.
type idpClient struct {
	ID              string         `json:"client_id"`
	Secret          string         `json:"client_secret"`
	RedirectURIs    []string       `json:"redirect_uris"`
	IDTokenOverride map[string]any `json:"id_token_override,omitempty"`
	IDTokenExpired  bool           `json:"id_token_expired,omitempty"`
	IDTokenOmit     []string       `json:"id_token_omit,omitempty"`
	Refresh         bool           `json:"refresh,omitempty"`
	PostLogoutURIs  []string       `json:"post_logout_redirect_uris,omitempty"`
	BackchannelURI  string         `json:"backchannel_logout_uri,omitempty"`
}

// idpConfig is e2e/oidc/provider.mjs's argument.
type idpConfig struct {
	Port     int                       `json:"port"`
	Clients  []idpClient               `json:"clients"`
	Accounts map[string]map[string]any `json:"accounts"`
}

// startIdP runs the OpenID Provider and waits until it listens. It is
// stopped when the test ends.
func startIdP(t *testing.T, node string, cfg idpConfig) string {
	t.Helper()
	arg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("oidc", "provider.mjs"), string(arg))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &e2etest.LockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the OpenID Provider's stderr:\n%s", stderr.String())
		}
		cmd.Process.Signal(os.Interrupt)
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			var v struct{ Issuer string }
			if json.Unmarshal(sc.Bytes(), &v) == nil {
				ready <- v.Issuer
			}
		}
		close(ready)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case issuer, ok := <-ready:
		if !ok {
			t.Fatalf("the OpenID Provider did not start\nstderr:\n%s", stderr.String())
		}
		return issuer
	case <-time.After(30 * time.Second):
		t.Fatalf("the OpenID Provider did not start in 30s\nstderr:\n%s", stderr.String())
	}
	return ""
}

// browser is an HTTP client with a cookie jar that follows redirects like
// a browser, except into the gateway's callback when stopAtCallback is
// set (so a test can tamper with it).
type browser struct {
	*http.Client
	stopAtCallback bool
	loginForms     int // the provider's login forms signIn has filled in
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{Client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 20 {
			return fmt.Errorf("too many redirects")
		}
		if b.stopAtCallback && strings.HasSuffix(req.URL.Path, "/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return b
}

// get fetches u and returns the response with its body read.
func (b *browser) get(t *testing.T, u string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.send(t, req)
}

func (b *browser) send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := b.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// signIn goes to the gateway's start URL and through the provider's real
// login and consent pages as login, submitting their HTML forms. It
// returns the last response: the app's page (or a gateway error), or,
// with stopAtCallback, the provider's redirect to the callback.
func (b *browser) signIn(t *testing.T, startURL, login string) (*http.Response, string) {
	t.Helper()
	res, body := b.get(t, startURL)
	for step := 0; step < 4; step++ {
		form, ok := findForm(t, res.Request.URL, body)
		if !ok {
			return res, body
		}
		if _, isLogin := form.values["login"]; isLogin {
			b.loginForms++
			form.values.Set("login", login)
			form.values.Set("password", "any password: devInteractions accept all")
		}
		req, err := http.NewRequest(http.MethodPost, form.action, strings.NewReader(form.values.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, body = b.send(t, req)
	}
	t.Fatalf("still on a form after 4 submissions: %s", body)
	return nil, ""
}

// htmlForm is a parsed POST form: its absolute action and its fields.
type htmlForm struct {
	action string
	values url.Values
}

// findForm parses the first POST form of an HTML page.
func findForm(t *testing.T, base *url.URL, page string) (htmlForm, bool) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return htmlForm{}, false
	}
	attr := func(n *html.Node, key string) string {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val
			}
		}
		return ""
	}
	var form *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if form == nil && n.Type == html.ElementNode && n.Data == "form" && strings.EqualFold(attr(n, "method"), "post") {
			form = n
		}
		for c := n.FirstChild; c != nil && form == nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if form == nil {
		return htmlForm{}, false
	}
	action, err := base.Parse(attr(form, "action"))
	if err != nil {
		t.Fatalf("form action %q: %v", attr(form, "action"), err)
	}
	f := htmlForm{action: action.String(), values: url.Values{}}
	var inputs func(*html.Node)
	inputs = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			f.values.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			inputs(c)
		}
	}
	inputs(form)
	return f, true
}

// errorCode returns the code of a JSON error answer, or "".
func errorCode(body string) string {
	var v struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &v)
	return v.Error.Code
}

// forgeStateCookie re-signs the state cookie of the sign-in whose
// callback is callbackURL, with edit applied to its payload, using the
// key the gateway derives from oidcSecret. It returns the forged cookie.
func forgeStateCookie(t *testing.T, jar http.CookieJar, gateway, callbackURL string, edit func(map[string]any)) *http.Cookie {
	t.Helper()
	cb, err := url.Parse(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	// The cookie is Path=<prefix>/oidc/; ask the jar for that path.
	u, _ := url.Parse(gateway + cb.Path)
	var orig *http.Cookie
	for _, c := range jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "gatehouse-oidc-") {
			orig = c
		}
	}
	if orig == nil {
		t.Fatalf("no state cookie in the jar for %s", u)
	}
	p64, _, _ := strings.Cut(orig.Value, ".")
	payload, err := base64.RawURLEncoding.DecodeString(p64)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(payload, &s); err != nil {
		t.Fatal(err)
	}
	if s["s"] != cb.Query().Get("state") {
		t.Fatalf("the state cookie is for state %v, the callback for %s", s["s"], cb.Query().Get("state"))
	}
	edit(s)
	payload, _ = json.Marshal(s)
	k := hmac.New(sha256.New, []byte(oidcSecret))
	k.Write([]byte("gatehouse oidc state cookie v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write(payload)
	forged := &http.Cookie{Name: orig.Name, Value: base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), Path: "/.auth/oidc/"}
	jar.SetCookies(u, []*http.Cookie{forged})
	return forged
}
