package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// benchCase is one row of the table: a target loaded with wrk.
type benchCase struct {
	name    string
	proc    *proc    // whose CPU and peak RSS are measured
	url     string   // what wrk loads
	headers []string // "Name: value", sent by wrk
	// minRPS, maxP99 and maxCPU are issue #9's budgets as ratios to the
	// bare proxy in the same round; 0 means none.
	minRPS, maxP99, maxCPU float64
	// check, when set, must pass before the case is loaded: a gateway
	// that does not refuse bad tokens would be measured doing less work.
	check func() error
}

// refusalCheck returns the check for a gateway case: the good credential
// must be served (with the identity injected), and none, forged, expired
// and wrong-audience tokens refused with 401. place puts a token where the
// case sends it; extra are the case's other headers; served checks a 200.
func refusalCheck(url string, good []string, place func(token string) []string, bad map[string]string, served func(*http.Response) error) func() error {
	do := func(headers []string) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		for _, h := range headers {
			name, value, _ := strings.Cut(h, ":")
			req.Header.Set(name, strings.TrimSpace(value))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res, nil
	}
	return func() error {
		res, err := do(good)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("a valid credential got %d, want 200", res.StatusCode)
		}
		if err := served(res); err != nil {
			return err
		}
		refused := map[string][]string{"missing": place("")}
		for name, tok := range bad {
			refused[name] = place(tok)
		}
		for name, headers := range refused {
			res, err := do(headers)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusUnauthorized {
				return fmt.Errorf("a %s token got %d, want 401: refusing to load-test a gateway that accepts it", name, res.StatusCode)
			}
		}
		return nil
	}
}

// seenUser checks that the upstream received the injected identity.
func seenUser(res *http.Response) error {
	if got := res.Header.Get("X-Seen-User"); got != benchUser {
		return fmt.Errorf("the upstream saw X-Auth-User %q, want %q", got, benchUser)
	}
	return nil
}

// verifiedUser checks a forward-auth answer carries the identity.
func verifiedUser(res *http.Response) error {
	if got := res.Header.Get("X-Auth-User"); got != benchUser {
		return fmt.Errorf("forward-auth answered X-Auth-User %q, want %q", got, benchUser)
	}
	return nil
}

// cookieHeader, bearerHeader place a token; "" places nothing.
func cookieHeader(name string) func(string) []string {
	return func(tok string) []string {
		if tok == "" {
			return nil
		}
		return []string{"Cookie: " + name + "=" + tok}
	}
}

func bearerHeader(tok string) []string {
	if tok == "" {
		return nil
	}
	return []string{"Authorization: Bearer " + tok}
}

// forwardHeaders are what a proxy sends to /.auth/verify (Traefik/Caddy
// convention) about the request it asks for.
var forwardHeaders = []string{
	"X-Forwarded-Method: GET", "X-Forwarded-Proto: http",
	"X-Forwarded-Host: app.bench.test", "X-Forwarded-Uri: /orders/17",
}

// withForward adds forwardHeaders to what place returns.
func withForward(place func(string) []string) func(string) []string {
	return func(tok string) []string { return append(place(tok), forwardHeaders...) }
}
