package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/session"
)

// Debug areas: when one is on, each decision in it is logged with why it
// was taken (at info level, with "area" set), so an operator can find out
// why a user was refused without turning on debug logging for everything.
const (
	areaCORS uint32 = 1 << iota
	areaSession
	areaRefresh
	areaPolicy
	areaForwardAuth
	areaStore
	areaCount = iota
)

// areaName names a debug area bit (config log.debug, the admin API).
func areaName(bit uint32) string {
	switch bit {
	case areaCORS:
		return "cors"
	case areaSession:
		return "session"
	case areaRefresh:
		return "refresh"
	case areaPolicy:
		return "policy"
	case areaForwardAuth:
		return "forwardauth"
	case areaStore:
		return "store"
	}
	return ""
}

// parseAreas turns area names into a bit set.
func parseAreas(names []string) (uint32, error) {
	var bits uint32
next:
	for _, n := range names {
		for i := 0; i < areaCount; i++ {
			if areaName(1<<i) == n {
				bits |= 1 << i
				continue next
			}
		}
		return 0, fmt.Errorf("unknown debug area %q (known: cors, session, refresh, policy, forwardauth, store)", n)
	}
	return bits, nil
}

// debugAreas is the set of areas switched on. Successive gateways of one
// process (reloads) share it, and a reload sets it from log.debug.
type debugAreas struct{ bits atomic.Uint32 }

func (d *debugAreas) names() []string {
	bits, out := d.bits.Load(), []string{}
	for i := 0; i < areaCount; i++ {
		if bits&(1<<i) != 0 {
			out = append(out, areaName(1<<i))
		}
	}
	return out
}

// debugOn reports whether area is switched on: one atomic load, so call
// sites test it before building any log attributes.
func (g *Gateway) debugOn(area uint32) bool { return g.debug.bits.Load()&area != 0 }

// debugLog logs a decision in area; the caller has checked debugOn.
func (g *Gateway) debugLog(area uint32, msg string, args ...any) {
	name := areaName(area)
	g.log.Info(name+": "+msg, append([]any{"area", name}, args...)...)
}

// adminDebug serves GET and PUT /v1/debug: the debug areas switched on,
// as {"areas": [...]}.
func (g *Gateway) adminDebug(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		var req struct {
			Areas []string `json:"areas"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, API: true, Message: `Send {"areas": ["policy", ...]}.`, Err: err})
			return
		}
		bits, err := parseAreas(req.Areas)
		if err != nil {
			g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, API: true, Message: err.Error()})
			return
		}
		g.debug.bits.Store(bits)
		g.log.Info("debug areas changed", "areas", g.debug.names())
	}
	writeJSON(w, http.StatusOK, map[string][]string{"areas": g.debug.names()})
}

// explain logs, for the areas switched on, why a request was decided as it
// was: which credential was rejected and why (session), which rule matched
// and what it lacked (policy).
func (g *Gateway) explain(method, host, path string, bearer bool, authErr error, d policy.Decision) {
	if authErr != nil && !errors.Is(authErr, session.ErrNoCredentials) && g.debugOn(areaSession) {
		g.debugLog(areaSession, "credential not accepted", "bearer", bearer, "cause", authErr.Error())
	}
	if g.debugOn(areaPolicy) {
		g.debugLog(areaPolicy, "decision", "method", method, "host", host, "path", path,
			"rule", d.Rule, "access", d.Access.String(), "allow", d.Allow, "code", d.Code, "reason", d.Reason)
	}
}
