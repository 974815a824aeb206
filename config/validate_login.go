package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// lifecycle checks the session settings added for refresh and login:
// the refresh grace and secret, legacy cookies, login and grants.
func (v *validator) lifecycle(c *Config) {
	s := &c.Session
	if s.RefreshGrace < 0 || s.RefreshGrace > 5*time.Minute {
		v.add("session.refresh_grace", "use a few seconds to a minute, such as 30s",
			"must be between 0s and 5m, got %s", fmtDuration(s.RefreshGrace))
	}
	if s.Secret != "" && len(s.Secret) < 32 {
		v.add("session.secret", "generate one with `openssl rand -base64 48`",
			"must be at least 32 bytes, got %d", len(s.Secret))
	}
	for i, l := range c.Cookie.Legacy {
		f := fmt.Sprintf("cookie.legacy[%d]", i)
		if !IsToken(l.Name) {
			v.add(f+".name", "give the exact cookie name the old setting used", "%q is not a cookie name", l.Name)
		}
		if l.Path != "" && !strings.HasPrefix(l.Path, "/") {
			v.add(f+".path", "use the Path it was set with, such as /", "%q must start with /", l.Path)
		}
		if strings.ContainsAny(l.Domain, "/:* ") {
			v.add(f+".domain", "use a bare domain such as example.com", "%q is not a domain", l.Domain)
		}
	}
	v.rateLimit("login.per_ip", c.Login.PerIP)
	v.rateLimit("login.per_user", c.Login.PerUser)
	for i, o := range c.Login.RedirectOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			v.add(fmt.Sprintf("login.redirect_origins[%d]", i), "use an origin: scheme and host, such as https://app.example.com",
				"%q is not an origin", o)
		}
	}
	g := &c.Grant
	if !IsToken(g.Header) {
		v.add("grant.header", "use a header name such as Gatehouse-Grant", "%q is not a header name", g.Header)
	}
	if g.Secret != "" && len(g.Secret) < 32 {
		v.add("grant.secret", "generate one with `openssl rand -base64 48` and give the same one to the app",
			"must be at least 32 bytes, got %d", len(g.Secret))
	}
	if g.MaxAge <= 0 || g.MaxAge > time.Hour {
		v.add("grant.max_age", "use a short duration such as 1m", "must be between 1s and 1h, got %s", fmtDuration(g.MaxAge))
	}
}

func (v *validator) rateLimit(field string, r RateLimit) {
	if r.Attempts < 1 {
		v.add(field+".attempts", "use a positive number such as 5", "must be at least 1, got %d", r.Attempts)
	}
	if r.Window <= 0 {
		v.add(field+".window", "use a duration such as 1m", "must be greater than 0, got %s", fmtDuration(r.Window))
	}
}
