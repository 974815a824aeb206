package main

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// demoApp is the upstream of `gateway demo`: it shows what it received,
// so a newcomer can see the identity headers the gateway injected (and
// that the session cookie and forged headers did not arrive).
func demoApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type header struct {
			Name, Value string
			Identity    bool
		}
		var hs []header
		for name, vs := range r.Header {
			for _, v := range vs {
				hs = append(hs, header{name, v, strings.HasPrefix(name, "X-Auth-")})
			}
		}
		slices.SortFunc(hs, func(a, b header) int { return strings.Compare(a.Name, b.Name) })
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Content-Type", "application/json")
			flat := map[string]string{}
			for _, h := range hs {
				flat[h.Name] = h.Value
			}
			_ = json.NewEncoder(w).Encode(map[string]any{
				"method": r.Method, "path": r.URL.Path, "user": r.Header.Get("X-Auth-User"), "headers": flat,
			})
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = demoPage.Execute(w, map[string]any{
			"Method": r.Method, "Path": r.URL.RequestURI(), "User": r.Header.Get("X-Auth-User"), "Headers": hs,
		})
	})
}

var demoPage = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse demo app</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #ddd;padding:.3rem;word-break:break-all}
tr.id td{background:#e8f5e9;font-weight:600}</style></head><body>
<h1>Hello{{with .User}}, {{.}}{{end}}</h1>
<p>This page is the demo <em>application</em> behind Gatehouse. It received <code>{{.Method}} {{.Path}}</code>
with these headers; the highlighted ones were set by the gateway after it verified your session.</p>
<p><a href="/.auth/logout?rd=/public/">Sign out</a> · <a href="/.auth/session">Session as JSON</a> · <a href="/admin/">Admin area</a> (needs role admin: 403)</p>
<table>{{range .Headers}}<tr{{if .Identity}} class="id"{{end}}><td>{{.Name}}</td><td>{{.Value}}</td></tr>{{end}}</table>
</body></html>
`))
