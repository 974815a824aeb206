package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/jwks"
)

// issuerKeys is one external issuer's remote key set and the background
// refresh that keeps it fresh.
type issuerKeys struct {
	issuer string
	// settings fingerprints what the set was built from; a reload with
	// the same settings keeps the set (and its cached keys).
	settings string
	set      *jwks.Set

	mu      sync.Mutex
	cancel  context.CancelFunc // non-nil once running
	stopped bool
}

// start runs the set's refresh loop under ctx, once.
func (k *issuerKeys) start(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cancel != nil || k.stopped {
		return
	}
	ctx, k.cancel = context.WithCancel(ctx)
	go k.set.Run(ctx)
}

// stop ends the refresh loop.
func (k *issuerKeys) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cancel != nil {
		k.cancel()
	}
	k.stopped = true
}

// buildIssuers prepares the key sets and verifiers of cfg.Issuers,
// reusing the previous gateway's key sets where nothing about them
// changed. It returns nil, nil when no issuer is configured.
//
// onFetch observes every fetch (for metrics); it is fixed when a key set
// is built, and kept with it across reloads.
func buildIssuers(cfg *config.Config, prev []*issuerKeys, now func() time.Time, log *slog.Logger, onFetch func(issuer string, err error)) ([]*issuerKeys, *session.Issuers, error) {
	if len(cfg.Issuers) == 0 {
		return nil, nil, nil
	}
	old := make(map[string]*issuerKeys, len(prev))
	for _, k := range prev {
		old[k.settings] = k
	}
	shared := cfg.ExternalTokens
	var keys []*issuerKeys
	var verifiers []*session.External
	for i, ic := range cfg.Issuers {
		settings := fmt.Sprintf("%q %q %+v", ic.Issuer, ic.JWKSURL, shared)
		k, ok := old[settings]
		if !ok {
			set, err := jwks.New(jwks.Options{
				Issuer: ic.Issuer, URL: ic.JWKSURL, Timeout: shared.FetchTimeout, MaxBytes: int64(shared.MaxJWKSBytes),
				RefetchInterval: shared.RefetchInterval, CacheMin: shared.CacheMin, CacheMax: shared.CacheMax,
				Now: now, Logger: log, OnFetch: func(err error) { onFetch(ic.Issuer, err) },
			})
			if err != nil {
				return nil, nil, &config.FieldError{Field: fmt.Sprintf("issuers[%d]", i), Problem: "cannot build its key set", Fix: "check the issuer and external_tokens settings", Err: err}
			}
			k = &issuerKeys{issuer: ic.Issuer, settings: settings, set: set}
		}
		keys = append(keys, k)
		verifiers = append(verifiers, session.NewExternal(ic, shared, k.set, now))
	}
	return keys, session.NewIssuers(cfg.Tokens.Issuer, max(cfg.Tokens.MaxTokenBytes, shared.MaxTokenBytes), verifiers...), nil
}

// issuersNotReady names each external issuer without usable keys, with
// the reason.
// issuersReady reports, for gatehouse_issuer_keys_ready, whether each
// external issuer has usable keys.
func (g *Gateway) issuersReady() map[string]bool {
	out := make(map[string]bool, len(g.issuerKeys))
	for _, k := range g.issuerKeys {
		out[k.issuer] = k.set.Ready() == nil
	}
	return out
}

func (g *Gateway) issuersNotReady() map[string]string {
	var out map[string]string
	for _, k := range g.issuerKeys {
		if err := k.set.Ready(); err != nil {
			if out == nil {
				out = map[string]string{}
			}
			out[k.issuer] = err.Error()
		}
	}
	return out
}
