package proxy

import "net/http"

// methodOverrideHeaders are the headers by which frameworks (Rails, Laravel,
// Express method-override, ASP.NET, Spring's HiddenHttpMethodFilter
// variants) let a request claim another method. The policy judges the
// request's own method, so a GET allowed by a rule that restricts DELETE
// would run as DELETE in such an app (issue #10). They are removed, in
// every spelling, before the upstream.
var methodOverrideHeaders = map[string]bool{
	"x-http-method-override": true,
	"x-http-method":          true,
	"x-method-override":      true,
}

// stripMethodOverride removes every method-override header from h.
func stripMethodOverride(h http.Header) {
	for name := range h {
		if methodOverrideHeaders[fold(name)] {
			delete(h, name)
		}
	}
}
