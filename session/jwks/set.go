package jwks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of Lookup, matched with errors.Is.
var (
	// ErrUnknownKey: no key of the set has the kid, even after a refetch
	// (or a refetch was not allowed yet).
	ErrUnknownKey = errors.New("jwks: no key with this kid")
	// ErrKidRequired: the token names no kid and the set has several keys.
	ErrKidRequired = errors.New("jwks: kid required: the key set has several keys")
	// ErrUnavailable: the set has no usable keys (never fetched, or the
	// cached keys expired) and fetching failed or is not allowed yet.
	ErrUnavailable = errors.New("jwks: keys unavailable")
)

// Options configure a Set. Every duration and size must be positive; the
// configuration package validates them and holds their defaults.
type Options struct {
	// Issuer is the issuer's identifier. With no URL, the JWKS location is
	// discovered at Issuer + "/.well-known/openid-configuration", whose
	// issuer member must equal Issuer exactly.
	Issuer string
	// URL is the JWKS URL; empty means discovery.
	URL string
	// Client makes the requests; nil means a client with no proxy
	// settings beyond the environment's and Timeout per request.
	Client *http.Client
	// Timeout bounds each fetch (discovery and JWKS).
	Timeout time.Duration
	// MaxBytes bounds each response body.
	MaxBytes int64
	// RefetchInterval is the least time between two fetches caused by
	// unknown kids (or by a lookup while no keys are usable).
	RefetchInterval time.Duration
	// CacheMin and CacheMax bound the cache lifetime taken from the
	// answer's Cache-Control max-age (no max-age, no-cache or no-store
	// count as 0, so CacheMin).
	CacheMin, CacheMax time.Duration
	// Backoff is the first retry delay of Run after a failed fetch; it
	// doubles up to a minute. Zero means one second.
	Backoff time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives fetch failures and ignored keys; nil discards.
	Logger *slog.Logger
	// OnFetch, when set, is called after every fetch of the JWKS with its
	// outcome (for metrics and tests). It must be fast.
	OnFetch func(err error)
}

// snapshot is one fetched key set; immutable once published.
type snapshot struct {
	byID      map[string]Key
	keys      []Key
	fetched   time.Time
	expires   time.Time // keys are not used after this
	refreshAt time.Time // Run fetches again from this time on
}

// Set is an issuer's remote key set. It is safe for concurrent use.
type Set struct {
	o      Options
	client *http.Client
	cur    atomic.Pointer[snapshot]

	mu          sync.Mutex
	lastAttempt time.Time // last fetch caused by a lookup
	lastErr     error     // outcome of the last fetch
	jwksURL     string    // o.URL, or the discovered jwks_uri
	call        *call     // the fetch in flight, if any
}

// call is one fetch in flight, which concurrent callers wait for instead
// of starting their own.
type call struct {
	done chan struct{}
	err  error
}

// New returns a Set that has fetched nothing yet: call Run (or Refresh).
func New(o Options) (*Set, error) {
	if o.Issuer == "" {
		return nil, errors.New("jwks: no issuer")
	}
	if o.Timeout <= 0 || o.MaxBytes <= 0 || o.RefetchInterval <= 0 || o.CacheMin <= 0 || o.CacheMax < o.CacheMin {
		return nil, fmt.Errorf("jwks: %s: timeouts, sizes and cache bounds must be positive (min <= max)", o.Issuer)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	c := o.Client
	if c == nil {
		c = &http.Client{Timeout: o.Timeout, CheckRedirect: noDowngrade}
	}
	s := &Set{o: o, client: c, jwksURL: o.URL, lastErr: errors.New("keys not fetched yet")}
	return s, nil
}

// noDowngrade follows at most 5 redirects, never from https to http.
func noDowngrade(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
		return fmt.Errorf("refusing a redirect from https to %s", req.URL.Scheme)
	}
	return nil
}

// Issuer returns the issuer the set belongs to.
func (s *Set) Issuer() string { return s.o.Issuer }

// usable returns the current snapshot if its keys have not expired.
func (s *Set) usable(now time.Time) *snapshot {
	snap := s.cur.Load()
	if snap == nil || !now.Before(snap.expires) {
		return nil
	}
	return snap
}

// Lookup returns the key named kid. An empty kid is accepted only when
// the set holds exactly one key. On a miss the set is fetched again, but
// at most once per RefetchInterval across all callers; concurrent misses
// share one fetch.
func (s *Set) Lookup(ctx context.Context, kid string) (Key, error) {
	k, err := s.find(kid)
	if err == nil || errors.Is(err, ErrKidRequired) {
		return k, err
	}
	c, start := s.join(true)
	if c == nil {
		// The interval's fetch was taken and is done: it may have
		// published the key since the first look.
		return s.find(kid)
	}
	if start {
		s.run(ctx, c)
	} else {
		// A fetch is in flight (a burst of requests at start-up or after
		// a rotation, or the background refresh): its result may hold
		// the key.
		select {
		case <-c.done:
		case <-ctx.Done():
			return Key{}, err
		}
	}
	if c.err != nil && errors.Is(err, ErrUnavailable) {
		return Key{}, fmt.Errorf("%w: %w", ErrUnavailable, c.err)
	}
	// On a failed fetch the old keys may still be usable; the kid is
	// just unknown.
	return s.find(kid)
}

// find looks kid up in the usable snapshot without fetching.
func (s *Set) find(kid string) (Key, error) {
	snap := s.usable(s.o.Now())
	if snap == nil {
		return Key{}, fmt.Errorf("%w: issuer %s", ErrUnavailable, s.o.Issuer)
	}
	if kid == "" {
		if len(snap.keys) == 1 {
			return snap.keys[0], nil
		}
		return Key{}, fmt.Errorf("%w (%d keys)", ErrKidRequired, len(snap.keys))
	}
	if k, ok := snap.byID[kid]; ok {
		return k, nil
	}
	// %.64q bounds what an attacker puts in logs.
	return Key{}, fmt.Errorf("%w: kid %.64q", ErrUnknownKey, kid)
}

// join returns the fetch a caller should wait for: the one in flight, or
// else a new one that the caller runs (start is true). With rateLimited
// (a lookup that missed), a new fetch is started only if the interval's
// one lookup-caused fetch is still free, else c is nil. Claiming the
// interval and registering the fetch happen under one lock, so a
// concurrent miss always finds the fetch it must wait for.
func (s *Set) join(rateLimited bool) (c *call, start bool) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.call != nil {
		return s.call, false
	}
	if rateLimited {
		if !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) < s.o.RefetchInterval {
			return nil, false
		}
		s.lastAttempt = now
	}
	s.call = &call{done: make(chan struct{})}
	return s.call, true
}

// Refresh fetches the key set now and publishes it; a caller that finds
// a fetch in flight waits for it instead of starting another. On failure
// the previous keys stay, until they expire.
func (s *Set) Refresh(ctx context.Context) error {
	c, start := s.join(false)
	if start {
		s.run(ctx, c)
		return c.err
	}
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run performs the registered fetch c, publishes its result and wakes
// everyone waiting on it.
func (s *Set) run(ctx context.Context, c *call) {
	// The fetch has its own timeout; a caller going away must not cut
	// it short for the others waiting on it.
	c.err = s.fetch(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.call, s.lastErr = nil, c.err
	s.mu.Unlock()
	close(c.done)
	if s.o.OnFetch != nil {
		s.o.OnFetch(c.err)
	}
	if c.err != nil {
		s.o.Logger.Warn("JWKS fetch failed", "issuer", s.o.Issuer, "err", c.err)
	}
}

// Ready returns nil when the set has usable keys, else why not (the last
// fetch error).
func (s *Set) Ready() error {
	if s.usable(s.o.Now()) != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil {
		return errors.New("cached keys expired")
	}
	return s.lastErr
}

// Run keeps the set fresh until ctx is done: it fetches when there are no
// usable keys or the current ones are due for refresh (three quarters
// into their cache lifetime, so a failing provider leaves a quarter of it
// for retries), retrying failures with backoff from Options.Backoff up to
// a minute.
func (s *Set) Run(ctx context.Context) {
	backoff := s.o.Backoff
	for {
		var wait time.Duration
		snap := s.cur.Load()
		now := s.o.Now()
		if snap != nil && now.Before(snap.refreshAt) {
			wait = snap.refreshAt.Sub(now)
		} else if err := s.Refresh(ctx); err != nil {
			wait = backoff
			backoff = min(2*backoff, time.Minute)
		} else {
			backoff = s.o.Backoff
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
