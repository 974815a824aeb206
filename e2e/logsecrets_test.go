package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestLogsCarryNoSecrets drives passwords, tokens and cookies through
// every path — login (good and bad), proxied requests, refresh, reuse,
// logout, malformed credentials — with debug logging on, then scans the
// whole log for any of them.
func TestLogsCarryNoSecrets(t *testing.T) {
	gw, _, _ := sessionGateway(t, "", "log: {level: debug, access: true, debug: [cors, session, refresh, policy, forwardauth, store]}\nsession: {refresh_grace: 0s}\n")
	base := "http://" + gw.Addr
	secrets := []string{"alice-pw", "wrong-password-xyz"}

	do(t, http.DefaultClient, "POST", base+"/.auth/login", `{"username":"alice","password":"wrong-password-xyz"}`)
	t1 := headerLogin(t, base)
	secrets = append(secrets, t1.Access, t1.Refresh)
	c := newClient(t)
	do(t, c, "POST", base+"/.auth/login", `{"username":"alice","password":"alice-pw"}`)
	cookie := cookieValue(c, base)
	secrets = append(secrets, cookie)
	do(t, c, "GET", base+"/app", "")
	do(t, http.DefaultClient, "GET", base+"/app", "", "Authorization", "Bearer "+t1.Access)
	do(t, http.DefaultClient, "GET", base+"/app", "", "Authorization", "Bearer "+t1.Access+"x")
	do(t, http.DefaultClient, "GET", base+"/app", "", "Authorization", "Bearer a b "+t1.Refresh)
	_, t2, _ := headerRefresh(t, base, t1.Refresh)
	secrets = append(secrets, t2.Access, t2.Refresh)
	headerRefresh(t, base, t1.Refresh) // reuse: logged as a warning
	do(t, c, "POST", base+"/.auth/logout", "")
	gw.Stop(t)

	log := gw.Stderr()
	if !strings.Contains(log, "refresh token reused") || !strings.Contains(log, "login") || !strings.Contains(log, `"msg":"access"`) {
		t.Fatalf("the log does not show the flows this test drove:\n%s", log)
	}
	for _, sec := range secrets {
		if sec == "" {
			t.Fatal("a secret was not captured")
		}
		for _, part := range secretParts(sec) {
			if strings.Contains(log, part) {
				at := strings.Index(log, part)
				t.Errorf("the log contains a secret (%.12s…): %q", part, log[max(0, at-80):min(len(log), at+40)])
			}
		}
	}
}

// secretParts returns the parts of a credential that are secret: a
// password whole; a JWT's payload and signature (its header is the same
// for every token); a refresh token's secret and MAC (its first part is the
// session id, which logs name on purpose). A cookie holds both kinds.
func secretParts(cred string) []string {
	var out []string
	for _, c := range strings.Split(cred, "~") {
		parts := strings.Split(c, ".")
		switch len(parts) {
		case 1:
			out = append(out, c) // a password
		case 3: // JWT: header.payload.signature; refresh: sid.secret.mac
			out = append(out, parts[1], parts[2])
		}
	}
	return out
}
