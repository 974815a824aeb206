package proxy

import (
	"html/template"
	"net/http"
)

// errorPage is what a browser navigation gets instead of the JSON error
// (other than 401, which redirects to the login page): the same message,
// code and request id, readable by a person, announced to screen readers.
var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f5f5f5;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 4px #0002;width:min(26rem,90vw)}
small{display:block;margin-top:1rem;color:#555}
</style></head><body><main>
<h1>{{.Title}}</h1>
<p role="alert">{{.Message}}</p>
<small>Code {{.Code}}{{with .RequestID}}, request {{.}}{{end}} (HTTP {{.Status}})</small>
</main></body></html>
`))

// errorView is what the error page shows.
type errorView struct {
	Title, Message, Code, RequestID string
	Status                          int
}

// errorTitle is the page heading for a status.
func errorTitle(status int) string {
	switch {
	case status == http.StatusForbidden:
		return "Access denied"
	case status == http.StatusNotFound:
		return "Not found"
	case status == http.StatusTooManyRequests:
		return "Too many attempts"
	case status < 500:
		return "This request cannot be served"
	}
	return "The application is not available"
}

// renderErrorPage writes e as an HTML page, with the headers of the JSON
// answer it replaces.
func renderErrorPage(w http.ResponseWriter, e *Error, requestID string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(e.Status)
	_ = errorPage.Execute(w, errorView{Title: errorTitle(e.Status), Message: e.Message, Code: e.Code, RequestID: requestID, Status: e.Status})
}
