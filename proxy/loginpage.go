package proxy

import (
	"html/template"
	"net/http"
)

// loginPage is the built-in login form: small, accessible, no JavaScript,
// usable on a phone. Errors are shown in words, announced to screen
// readers (role="alert").
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign in</title>
<style>
body{font-family:system-ui,sans-serif;background:#f5f5f5;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 4px #0002;width:min(22rem,90vw)}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;border:1px solid #888;border-radius:.3rem}
button{margin-top:1.2rem;width:100%;padding:.7rem;font-size:1rem;border:0;border-radius:.3rem;background:#1d4ed8;color:#fff}
p[role=alert]{background:#fee2e2;color:#7f1d1d;padding:.6rem;border-radius:.3rem}
p[role=alert] small{display:block;margin-top:.3rem;opacity:.8}
ul.providers{list-style:none;padding:0;margin:1rem 0 0}
ul.providers a{display:block;margin-top:.6rem;padding:.7rem;text-align:center;border:1px solid #1d4ed8;border-radius:.3rem;color:#1d4ed8;text-decoration:none}
p.or{text-align:center;color:#555;margin:1.2rem 0 0}
</style></head><body><main>
<h1>Sign in</h1>
{{with .Error}}<p role="alert">{{.}}{{with $.Code}}<small>Code {{.}}{{with $.RequestID}}, request {{.}}{{end}}</small>{{end}}</p>{{end}}
{{if .Providers}}<ul class="providers">
{{range .Providers}}<li><a href="{{.URL}}" data-provider-link>Sign in with {{.Label}}</a></li>
{{end}}</ul>{{end}}
{{if and .Form .Providers}}<p class="or">or</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
<input type="hidden" name="rd" value="{{.RD}}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" required value="{{.Username}}" {{if not .Username}}autofocus{{end}}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required {{if .Username}}autofocus{{end}}>
<button type="submit">Sign in</button>
</form>{{end}}</main></body></html>
`))

// loginView is what the login page shows. renderLogin fills Action, Form
// and Providers.
type loginView struct {
	Action, RD, Username, Error string
	Code, RequestID             string // shown with Error, for support
	Form                        bool   // the username and password form
	Providers                   []loginProvider
}

// renderLogin writes the login page with status.
func (g *Gateway) renderLogin(w http.ResponseWriter, status int, v loginView) {
	v.Action = g.prefix + "/login"
	v.Form = g.passwordLogin()
	v.Providers = g.loginProviders(v.RD)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, v)
}
