package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// asymmetricAlgs are the algorithms an external issuer may use.
func asymmetricAlgs() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
}

// issuers checks issuers and external_tokens.
func (v *validator) issuers(c *Config) {
	seen := map[string]int{}
	for i := range c.Issuers {
		is := &c.Issuers[i]
		p := fmt.Sprintf("issuers[%d]", i)
		switch j, dup := seen[is.Issuer]; {
		case strings.TrimSpace(is.Issuer) == "":
			v.add(p+".issuer", "set it to the exact iss value of the provider's tokens, such as https://idp.example.com/realms/main", "must not be empty")
		case is.Issuer == c.Tokens.Issuer:
			v.add(p+".issuer", "an external issuer must differ from tokens.issuer: tokens with the gateway's own iss are verified with the gateway's own keys",
				"%q is also tokens.issuer", is.Issuer)
		case dup:
			v.add(p+".issuer", "list each issuer once", "%q is also issuers[%d]", is.Issuer, j)
		default:
			seen[is.Issuer] = i
		}
		if is.JWKSURL != "" {
			v.fetchURL(p+".jwks_url", is.JWKSURL, "https://idp.example.com/jwks.json")
		} else if is.Issuer != "" && is.Issuer != c.Tokens.Issuer {
			v.fetchURL(p+".issuer", is.Issuer, "https://idp.example.com (or set jwks_url: discovery needs a URL issuer)")
		}
		if len(is.Audiences) == 0 {
			v.add(p+".audiences", "list the aud values this gateway accepts, such as [my-api]: without one, a token minted for any other app of the provider would pass",
				"must not be empty")
		}
		for k, a := range is.Audiences {
			if strings.TrimSpace(a) == "" {
				v.add(fmt.Sprintf("%s.audiences[%d]", p, k), "remove the empty entry", "is empty")
			}
		}
		v.issuerAlgorithms(p+".algorithms", is.Algorithms)
		v.claimMapping(p+".claims", &is.Claims, c.Tokens.Claims)
		v.claimRequirements(p+".require", &is.Require)
		if strings.IndexFunc(is.SubjectPrefix, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			v.add(p+".subject_prefix", `use printable text such as "kc:"`, "contains control characters")
		}
	}
	e := &c.ExternalTokens
	v.between("external_tokens.leeway", e.Leeway, 0, 5*time.Minute)
	v.between("external_tokens.max_lifetime", e.MaxLifetime, time.Minute, 7*24*time.Hour)
	if e.MaxTokenBytes < 512 || e.MaxTokenBytes > 65536 {
		v.add("external_tokens.max_token_bytes", "use a size from 512 to 65536 (the default is 16384)",
			"must be between 512 and 65536, got %d", e.MaxTokenBytes)
	}
	v.between("external_tokens.fetch_timeout", e.FetchTimeout, 100*time.Millisecond, time.Minute)
	if e.MaxJWKSBytes < 1024 || e.MaxJWKSBytes > 16<<20 {
		v.add("external_tokens.max_jwks_bytes", "use a size from 1024 to 16777216 (the default is 262144)",
			"must be between 1024 and 16777216, got %d", e.MaxJWKSBytes)
	}
	v.between("external_tokens.refetch_interval", e.RefetchInterval, time.Second, time.Hour)
	v.between("external_tokens.cache_min", e.CacheMin, time.Second, 24*time.Hour)
	v.between("external_tokens.cache_max", e.CacheMax, time.Second, 7*24*time.Hour)
	if e.CacheMax < e.CacheMin {
		v.add("external_tokens.cache_max", "raise cache_max or lower cache_min", "%s is shorter than external_tokens.cache_min (%s)",
			fmtDuration(e.CacheMax), fmtDuration(e.CacheMin))
	}
}

// issuerAlgorithms checks an issuer's algorithm list: asymmetric only,
// because a shared secret (HS256) would have to be the same secret the
// provider signs with, and its JWKS must never supply one.
func (v *validator) issuerAlgorithms(field string, algs []string) {
	if len(algs) == 0 {
		v.add(field, "list the algorithms the provider signs with, such as [RS256] (most providers) or [ES256]", "must not be empty")
	}
	for i, a := range algs {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			v.add(f, "remove it: external tokens are accepted only with asymmetric signatures ("+strings.Join(asymmetricAlgs(), ", ")+")",
				"%q is a symmetric (shared-secret) algorithm", a)
		case !slices.Contains(asymmetricAlgs(), a):
			v.add(f, oneOf(a, asymmetricAlgs()...), "unsupported algorithm %q", a)
		case slices.Contains(algs[:i], a):
			v.add(f, "remove the duplicate", "%q is listed twice", a)
		}
	}
}

// fetchURL checks a URL the gateway fetches keys from: https, or http to
// a loopback address (a provider on the same host, or a test).
func (v *validator) fetchURL(field, raw, example string) {
	u := v.httpURL(field, raw, example)
	if u == nil || u.Scheme == "https" {
		return
	}
	if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
		return
	}
	v.add(field, "use https://: keys fetched over plain http can be replaced by anyone on the path",
		"%q is plain http to a non-loopback host", raw)
}

// assertion checks the signed identity assertion settings.
func (v *validator) assertion(c *Config) {
	a := &c.Assertion
	if a.Header != "" || a.Enabled {
		used := map[string]string{}
		h := &c.IdentityHeaders
		for field, name := range map[string]string{"identity_headers.user": h.User, "identity_headers.email": h.Email,
			"identity_headers.roles": h.Roles, "identity_headers.session": h.Session} {
			if name != "" {
				used[FoldHeader(name)] = field
			}
		}
		for claim, name := range h.Claims {
			used[FoldHeader(name)] = "identity_headers.claims." + claim
		}
		v.identityHeader("assertion.header", a.Header, used)
	}
	if !a.Enabled {
		return
	}
	v.between("assertion.ttl", a.TTL, time.Second, time.Minute)
	if a.Audience == "" && c.Upstream.URL == "" {
		v.add("assertion.audience", "set the audience the app expects, such as https://app.example.com", "is empty and there is no upstream.url to take it from")
	}
	for i, name := range a.Claims {
		f := fmt.Sprintf("assertion.claims[%d]", i)
		switch {
		case !slices.Contains(c.Tokens.Claims, name):
			v.add(f, "add it to tokens.claims, or remove it here: sub, email, roles and sid are always included",
				"%q is not one of tokens.claims", name)
		case slices.Contains(a.Claims[:i], name):
			v.add(f, "remove the duplicate", "%q is listed twice", name)
		}
	}
}

// Origin returns the scheme://host[:port] of an absolute URL, or "".
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
