package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Validate reports every problem with c at once, joined with errors.Join;
// each is a *FieldError naming the field by its YAML path
// ("keys[1].alg", "policy.rules[0].path"), the problem and the fix. It
// returns nil when c is usable.
//
// Validate does not modify c; values that other packages normalise
// (method case, header canonical form) are checked, not rewritten. It
// expects *_file secrets to be read already, as Parse does.
func (c *Config) Validate() error {
	v := &validator{}
	v.server(&c.Server)
	v.publicURL(c.PublicURL)
	v.authPrefix(c.AuthPrefix)
	v.upstreams(c)
	v.trustedProxies(c.TrustedProxies)
	v.tokens(&c.Tokens)
	v.keys(c.Keys, c.Tokens.SigningKey)
	v.session(&c.Session, c.Tokens.AccessTTL)
	v.cookie(&c.Cookie, c.PublicURL)
	v.identityHeaders(&c.IdentityHeaders, c.Tokens.Claims)
	v.policy(&c.Policy, c.Tokens.Claims)
	for i := range c.Policy.Rules {
		v.routeOptions(fmt.Sprintf("policy.rules[%d]", i), &c.Policy.Rules[i], c)
	}
	v.lifecycle(c)
	v.oidc(c)
	v.store(c)
	v.cors(&c.CORS)
	v.issuers(c)
	v.assertion(c)
	v.log(&c.Log)
	return errors.Join(v.errs...)
}

// validator collects problems.
type validator struct{ errs []error }

// add records a problem with field.
func (v *validator) add(field, fix, format string, args ...any) {
	v.errs = append(v.errs, Problemf(field, fix, format, args...))
}

// addErr records a problem with field that has an underlying cause.
func (v *validator) addErr(field, fix string, cause error, format string, args ...any) {
	fe := Problemf(field, fix, format, args...)
	fe.Err = cause
	v.errs = append(v.errs, fe)
}

// atLeast checks that a duration is at least lo.
func (v *validator) atLeast(field string, d, lo time.Duration, fix string) {
	if d < lo {
		v.add(field, fix, "must be at least %s, got %s", fmtDuration(lo), fmtDuration(d))
	}
}

// between checks that a duration is within [lo, hi].
func (v *validator) between(field string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(field, fmt.Sprintf("use a duration from %s to %s", fmtDuration(lo), fmtDuration(hi)),
			"must be between %s and %s, got %s", fmtDuration(lo), fmtDuration(hi), fmtDuration(d))
	}
}

// fmtDuration prints a duration the way a config file spells it: "5m",
// not "5m0s".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// server checks the public listener.
func (v *validator) server(s *Server) {
	if problem, cause := checkHostPort(s.Listen); problem != "" {
		v.addErr("server.listen", `use host:port, such as ":8080" (all interfaces) or "127.0.0.1:8080"`, cause,
			"%q is not a listen address: %s", s.Listen, problem)
	}
	v.atLeast("server.read_timeout", s.ReadTimeout, 0, "use 0 for no limit, or a positive duration")
	v.atLeast("server.write_timeout", s.WriteTimeout, 0, "use 0 for no limit, or a positive duration")
	v.atLeast("server.idle_timeout", s.IdleTimeout, 0, "use 0 to fall back to read_timeout, or a positive duration")
	if s.ReadHeaderTimeout <= 0 {
		v.add("server.read_header_timeout",
			"set a few seconds, such as 10s: without a limit a client that sends headers slowly holds its connection forever (slowloris)",
			"must be greater than 0, got %s", fmtDuration(s.ReadHeaderTimeout))
	}
	if s.MaxHeaderBytes < 4096 {
		v.add("server.max_header_bytes", "use at least 4096 (the default is 65536): browsers send large cookies and headers",
			"must be at least 4096, got %d", s.MaxHeaderBytes)
	}
}

// checkHostPort explains what is wrong with a listen address, or returns
// "". The port must be numeric (0 picks a free port); the host, if any,
// an IP address or a host name.
func checkHostPort(addr string) (problem string, cause error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "cannot split host and port", err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port %q is not a number from 0 to 65535", port), nil
	}
	if host != "" && !isHostname(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Sprintf("host %q is neither an IP address nor a host name", host), nil
		}
	}
	return "", nil
}

// httpURL checks an absolute http(s) URL without userinfo, query or
// fragment, and returns it parsed. It reports problems itself and returns
// nil after any.
func (v *validator) httpURL(field, raw, example string) *url.URL {
	fix := "use an absolute URL such as " + example
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.addErr(field, fix, err, "%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(field, fix, "%q must start with http:// or https://", raw)
	case u.Host == "" || u.Hostname() == "":
		v.add(field, fix, "%q has no host", raw)
	case u.User != nil:
		v.add(field, "remove the user:password@ part; credentials do not belong in this URL", "%q contains userinfo", raw)
	case u.RawQuery != "" || u.ForceQuery:
		v.add(field, "remove the ?query", "%q has a query", raw)
	case strings.Contains(raw, "#"):
		v.add(field, "remove the #fragment", "%q has a fragment", raw)
	case !validPort(u.Port()):
		v.add(field, fix, "%q has an invalid port", raw)
	default:
		return u
	}
	return nil
}

// validPort reports whether p is empty or a port number.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

// publicURL checks the optional external origin.
func (v *validator) publicURL(raw string) {
	if raw == "" {
		return
	}
	u := v.httpURL("public_url", raw, "https://app.example.com")
	if u != nil && u.Path != "" && u.Path != "/" {
		v.add("public_url",
			"remove the path: the gateway serves the whole origin (its own endpoints live under auth_prefix)",
			"%q has a path (%s)", raw, u.Path)
	}
}

// authPrefix checks the path of the gateway's own endpoints: a literal,
// normalised path, because requests are compared with it as they arrive.
func (v *validator) authPrefix(p string) {
	const field = "auth_prefix"
	fix := `use a path such as "/.auth"`
	switch {
	case !strings.HasPrefix(p, "/"):
		v.add(field, fix, "%q must start with /", p)
	case p == "/":
		v.add(field, fix+`: "/" would take every path from the upstream`, `must not be "/"`)
	case strings.HasSuffix(p, "/"):
		v.add(field, fmt.Sprintf("write it without the trailing slash: %q", strings.TrimRight(p, "/")), "%q ends with /", p)
	case strings.ContainsAny(p, "*?#%"):
		v.add(field, fix+"; it is a literal path, not a pattern, and is not percent-encoded", `%q contains one of * ? # %%`, p)
	case strings.Contains(p, ".."), strings.Contains(p, "//"), strings.Contains(p, "/./"), strings.HasSuffix(p, "/."):
		v.add(field, fix, "%q has an empty, \".\" or \"..\" segment", p)
	case hasControl(p):
		v.add(field, fix, "%q contains spaces or control characters", p)
	}
}

// trustedProxies checks that each entry is an IP address or a CIDR.
func (v *validator) trustedProxies(list []string) {
	for i, s := range list {
		field := fmt.Sprintf("trusted_proxies[%d]", i)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			switch {
			case err != nil:
				v.addErr(field, "use a CIDR such as 10.0.0.0/8 or fd00::/8, or a single IP", err, "%q is not a CIDR", s)
			case p != p.Masked():
				// Almost always a typo for the network, and ambiguous to a reader.
				v.add(field, fmt.Sprintf("write the network address: %s", p.Masked()), "%q has host bits set", s)
			}
			continue
		}
		if _, err := netip.ParseAddr(s); err != nil {
			v.addErr(field, "use a CIDR such as 10.0.0.0/8 or fd00::/8, or a single IP such as 10.0.0.1", err,
				"%q is neither an IP address nor a CIDR", s)
		}
	}
}

// log checks the logging level and format.
func (v *validator) log(l *Log) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", oneOf(l.Level, "debug", "info", "warn", "error"), "unknown level %q", l.Level)
	}
	switch l.Format {
	case "json", "text":
	default:
		v.add("log.format", oneOf(l.Format, "json", "text"), "unknown format %q", l.Format)
	}
}
