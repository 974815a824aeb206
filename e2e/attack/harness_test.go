package attack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Names every family shares.
const (
	issuer   = "https://gw.attack.test"
	audience = "attack-app"
	caseHdr  = "X-Attack-Case" // ties an upstream record to the case that sent it
	hsSecret = "attack-suite-hs256-secret-0123456789abcdef"
)

// record is one request as the upstream received it.
type record struct {
	Method     string
	RequestURI string // exactly as on the wire (net/http keeps it raw)
	Path       string
	Host       string
	Header     http.Header
	Body       string
}

// recorder is the upstream: a real HTTP server that records every request
// and answers 200 "app:<path>".
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []record
}

func newRecorder(t *testing.T) *recorder {
	u := &recorder{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "h2c") {
			u.acceptH2C(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, record{r.Method, r.RequestURI, r.URL.Path, r.Host, r.Header.Clone(), string(b)})
		u.mu.Unlock()
		// Something an upstream might try: overwrite the session cookie.
		w.Header().Add("Set-Cookie", "gatehouse=upstream-planted; Path=/")
		fmt.Fprintf(w, "app:%s", r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

// acceptH2C plays an app that accepts an h2c upgrade: it answers 101 and
// records every byte that arrives on the switched connection as a
// request with Method "SMUGGLED" (what a client could send past the
// policy if a proxy relayed the upgrade).
func (u *recorder) acceptH2C(w http.ResponseWriter, r *http.Request) {
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
	brw.Flush()
	c.SetReadDeadline(time.Now().Add(time.Second))
	b, _ := io.ReadAll(brw)
	u.mu.Lock()
	u.reqs = append(u.reqs, record{Method: "SMUGGLED", RequestURI: r.RequestURI, Header: r.Header.Clone(), Body: string(b)})
	u.mu.Unlock()
}

// forCase returns what reached the upstream for one case id.
func (u *recorder) forCase(id string) []record {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []record
	for _, r := range u.reqs {
		if r.Header.Get(caseHdr) == id {
			out = append(out, r)
		}
	}
	return out
}

// rawResponse is the gateway's answer to a raw request.
type rawResponse struct {
	*http.Response
	Body []byte
}

// Code is the error code of a JSON error body, or "".
func (r *rawResponse) Code() string {
	var v struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &v)
	return v.Error.Code
}

// sendRaw writes req byte for byte on a new connection and reads one
// response. A connection the gateway closes without answering gives a nil
// response (net/http answers some garbage with a bare 400 and closes).
func sendRaw(t *testing.T, addr, req string) *rawResponse {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req = strings.Replace(req, "{{case}}", caseHdr+": none", 1)
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return &rawResponse{res, b}
}

// rawRequest builds an HTTP/1.1 request. target goes on the request line
// as is; headers are written exactly in the order and spelling given.
func rawRequest(method, target, host string, headers ...string) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

// attackCase is one hostile request and its verdict.
type attackCase struct {
	name string
	// req is the raw request; {{case}} is replaced by a header line that
	// identifies the case to the recorder.
	req string
	// status is the status the client must get.
	status int
	// code, when set, is the error code the JSON body must carry.
	code string
	// reaches says whether the upstream must see the request. A refused
	// case (status >= 300) must never reach it.
	reaches bool
	// upstream checks what did reach it (only when reaches).
	upstream func(t *testing.T, r record)
	// response checks the client's answer further.
	response func(t *testing.T, r *rawResponse)
}

// run sends every case and checks status, code and the upstream record.
func (e *env) run(t *testing.T, cases []attackCase) {
	t.Helper()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("%s-%d", t.Name(), i)
			checkCase(t, e.addr, e.up, id, c)
		})
	}
}

func checkCase(t *testing.T, addr string, up *recorder, id string, c attackCase) {
	t.Helper()
	req := strings.Replace(c.req, "{{case}}", caseHdr+": "+id, 1)
	if !strings.Contains(req, id) {
		t.Fatalf("case request has no {{case}} marker: %q", c.req)
	}
	res := sendRaw(t, addr, req)
	if res == nil {
		t.Fatalf("no HTTP response to %q", req)
	}
	if res.StatusCode != c.status {
		t.Errorf("status %d, want %d\nrequest: %q\nbody: %s", res.StatusCode, c.status, req, res.Body)
	}
	if c.code != "" && res.Code() != c.code {
		t.Errorf("code %q, want %q\nbody: %s", res.Code(), c.code, res.Body)
	}
	if res.StatusCode >= 500 && res.StatusCode != c.status {
		t.Errorf("a hostile request must never be a 5xx: %d %s", res.StatusCode, res.Body)
	}
	if res.StatusCode < 400 && res.Header.Get("Set-Cookie") != "" && strings.Contains(res.Header.Get("Set-Cookie"), "upstream-planted") {
		t.Errorf("the upstream's Set-Cookie for the session cookie reached the client: %q", res.Header.Values("Set-Cookie"))
	}
	got := up.forCase(id)
	switch {
	case !c.reaches && len(got) != 0:
		t.Errorf("the upstream received %d request(s), want none: %+v", len(got), got[0])
	case c.reaches && len(got) != 1:
		t.Errorf("the upstream received %d request(s), want exactly 1", len(got))
	case c.reaches && c.upstream != nil:
		c.upstream(t, got[0])
	}
	if c.response != nil {
		c.response(t, res)
	}
}

// fold is how CGI-style servers fold header names: case-insensitive, "_"
// and "." read as "-".
func fold(s string) string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(s))
}

// folded returns every value of every header whose name folds to name.
func folded(h http.Header, name string) []string {
	var out []string
	for k, vs := range h {
		if fold(k) == fold(name) {
			out = append(out, vs...)
		}
	}
	return out
}

// wantIdentity asserts the upstream saw exactly this user (in every
// spelling) and, when roles != "-", these roles.
func wantIdentity(user, roles string) func(t *testing.T, r record) {
	return func(t *testing.T, r record) {
		t.Helper()
		if got := folded(r.Header, "X-Auth-User"); !(user == "" && len(got) == 0) && (len(got) != 1 || got[0] != user) {
			t.Errorf("upstream X-Auth-User (all spellings) = %q, want [%s]", got, user)
		}
		if roles != "-" {
			if got := folded(r.Header, "X-Auth-Roles"); !(roles == "" && len(got) == 0) && (len(got) != 1 || got[0] != roles) {
				t.Errorf("upstream X-Auth-Roles (all spellings) = %q, want [%s]", got, roles)
			}
		}
	}
}
