package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// fetch discovers the JWKS URL if needed, downloads and parses the set,
// and publishes it.
func (s *Set) fetch(ctx context.Context) error {
	s.mu.Lock()
	u := s.jwksURL
	s.mu.Unlock()
	if u == "" {
		var err error
		if u, err = s.discover(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		s.jwksURL = u
		s.mu.Unlock()
	}
	body, h, err := s.get(ctx, u)
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", u, err)
	}
	p, err := parseSet(body)
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", u, err)
	}
	if p.skipped > 0 || p.broken > 0 {
		s.o.Logger.Debug("JWKS keys not used", "issuer", s.o.Issuer, "ignored", p.skipped, "malformed", p.broken)
	}
	if len(p.keys) == 0 {
		return fmt.Errorf("JWKS %s: no usable signature keys (%d ignored, %d malformed)", u, p.skipped, p.broken)
	}
	now := s.o.Now()
	life := min(max(maxAge(h), s.o.CacheMin), s.o.CacheMax)
	snap := &snapshot{
		byID: make(map[string]Key, len(p.keys)), keys: p.keys, fetched: now,
		expires: now.Add(life), refreshAt: now.Add(life * 3 / 4),
	}
	for _, k := range p.keys {
		if k.ID != "" {
			snap.byID[k.ID] = k
		}
	}
	s.cur.Store(snap)
	return nil
}

// discover reads the issuer's OpenID Provider metadata (OpenID Connect
// Discovery 1.0 section 4) and returns its jwks_uri. The metadata's issuer
// MUST equal ours exactly (section 4.3), or a provider could speak for
// another.
func (s *Set) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(s.o.Issuer, "/") + "/.well-known/openid-configuration"
	body, _, err := s.get(ctx, u)
	if err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return "", fmt.Errorf("discovery %s: not JSON: %w", u, err)
	}
	if meta.Issuer != s.o.Issuer {
		return "", fmt.Errorf("discovery %s: issuer is %.200q, not %q", u, meta.Issuer, s.o.Issuer)
	}
	ju, err := url.Parse(meta.JWKSURI)
	if err != nil || ju.Host == "" || (ju.Scheme != "https" && ju.Scheme != "http") {
		return "", fmt.Errorf("discovery %s: jwks_uri %.200q is not an absolute URL", u, meta.JWKSURI)
	}
	iu, _ := url.Parse(s.o.Issuer)
	if ju.Scheme == "http" && (iu == nil || iu.Scheme != "http") {
		return "", fmt.Errorf("discovery %s: jwks_uri %q is plain http for an https issuer", u, meta.JWKSURI)
	}
	return meta.JWKSURI, nil
}

// errTooLarge: a body over Options.MaxBytes.
var errTooLarge = errors.New("response body too large")

// get fetches u with the timeout and body limit, requiring 200.
func (s *Set) get(ctx context.Context, u string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("status %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, s.o.MaxBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(body)) > s.o.MaxBytes {
		return nil, nil, fmt.Errorf("%w: over %d bytes", errTooLarge, s.o.MaxBytes)
	}
	return body, res.Header, nil
}

// maxAge is the freshness lifetime the answer grants (RFC 9111 section
// 5.2.2): max-age minus Age; 0 for no-store, no-cache or none given.
func maxAge(h http.Header) time.Duration {
	var age time.Duration = -1
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
				if err != nil || n < 0 {
					return 0
				}
				age = time.Duration(min(n, 1<<30)) * time.Second
			}
		}
	}
	if age < 0 {
		return 0
	}
	if a, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && a > 0 {
		age -= time.Duration(min(a, 1<<30)) * time.Second
	}
	return max(age, 0)
}
