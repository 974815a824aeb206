package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/policy"
)

// printRoutes writes the route table as the gateway understands it: the
// rules in match order (host, path, methods, access, where an allowed
// request goes), then the default.
func printRoutes(w io.Writer, cfg *config.Config, e *policy.Engine) {
	fmt.Fprintln(w, "\nroutes (first match wins):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\trule\thost\tpath\tmethods\taccess\tupstream")
	for i, ri := range e.Rules() {
		idx := fmt.Sprint(i)
		if i == e.Len() {
			idx = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", idx, ri.Name, ri.Host, ri.Path, ri.Methods, ri.Access, routeTarget(cfg, ruleAt(cfg, i)))
	}
	tw.Flush()
}

// ruleAt returns the config rule at i, or a rule standing for the default
// (no upstream, the default's access) for i == len(rules) or -1.
func ruleAt(cfg *config.Config, i int) *config.Rule {
	if i >= 0 && i < len(cfg.Policy.Rules) {
		return &cfg.Policy.Rules[i]
	}
	return &config.Rule{Access: cfg.Policy.Default}
}

// routeTarget says where a rule sends an allowed request, and how.
func routeTarget(cfg *config.Config, r *config.Rule) string {
	u := cfg.UpstreamURL(r.Upstream)
	switch {
	case r.Access == "deny":
		return "-"
	case u == "":
		return "none: 404 NO_ROUTE"
	}
	name := r.Upstream
	if name == "" {
		name = "default"
	}
	s := name + " " + u
	if r.StripPrefix != "" {
		s += " strip " + r.StripPrefix
		if r.RewriteRedirects {
			s += " (rewrite redirects)"
		}
	}
	return s
}

// explainRequest says which rule a request would match and why, and what
// the gateway would then do with it. It applies the same canonical forms
// and the same matcher as the gateway; credentials are not involved, so
// it names what access requires rather than deciding it.
func explainRequest(w io.Writer, cfg *config.Config, e *policy.Engine, method, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("--explain: %q is not an absolute http(s) URL, such as https://app.example.com/path", rawURL)
	}
	method = strings.ToUpper(method)
	if !config.IsToken(method) {
		return fmt.Errorf("--explain: %q is not an HTTP method", method)
	}
	fmt.Fprintf(w, "%s %s\n", method, rawURL)
	host := policy.CanonicalHost(u.Host)
	path, err := policy.CanonicalPath(u.EscapedPath())
	if u.EscapedPath() == "" {
		path, err = "/", nil
	}
	if err != nil {
		fmt.Fprintf(w, "  path %q is refused: %v\n=> 400 INVALID_PATH, before any rule\n", u.EscapedPath(), err)
		return nil
	}
	fmt.Fprintf(w, "  canonical host %q, path %q\n", host, path)
	if p := cfg.AuthPrefix; path == p || strings.HasPrefix(path, p+"/") {
		fmt.Fprintf(w, "=> the gateway's own endpoint %s (auth_prefix), not a route\n", strings.TrimPrefix(path, p))
		return nil
	}
	var matched policy.Step
	for _, s := range e.Explain(policy.Request{Host: host, Path: path, Method: method}) {
		mark := "no "
		if s.Matched {
			mark, matched = "YES", s
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, s.Rule, s.Why)
	}
	r := ruleAt(cfg, matched.Index)
	info := e.Rules()[e.Len()]
	if matched.Index >= 0 {
		info = e.Rules()[matched.Index]
	}
	fmt.Fprintf(w, "=> rule %q: access %s\n", matched.Rule, info.Access)
	switch t := routeTarget(cfg, r); {
	case r.Access == "deny":
		fmt.Fprintln(w, "=> 403 FORBIDDEN for everyone")
	case strings.HasPrefix(t, "none"):
		fmt.Fprintln(w, "=> 404 NO_ROUTE: the rule names no upstream and upstream.url is empty")
	default:
		name := r.Upstream
		if name == "" {
			name = "default"
		}
		sent := path
		if r.StripPrefix != "" {
			sent = strings.TrimPrefix(path, r.StripPrefix)
			if sent == "" || sent[0] != '/' {
				sent = "/" + sent
			}
			fmt.Fprintf(w, "=> if allowed: upstream %s %s, path %s, X-Forwarded-Prefix %s\n", name, cfg.UpstreamURL(r.Upstream), sent, r.StripPrefix)
		} else {
			fmt.Fprintf(w, "=> if allowed: upstream %s %s, path %s\n", name, cfg.UpstreamURL(r.Upstream), sent)
		}
	}
	return nil
}
