package session

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Mirror keeps a replica's local Revocations in step with a shared
// RevocationStore: loaded at start, updated by the store's announcements,
// and reconciled periodically and after every reconnect, so a missed
// announcement cannot leave a revoked session alive for longer than one
// reconcile interval. The request path reads only the local list.
type Mirror struct {
	list     *Revocations
	src      RevocationStore
	now      func() time.Time
	interval time.Duration
	maxStale time.Duration
	timeout  time.Duration
	log      *slog.Logger
	lastSync atomic.Int64 // unix nanoseconds of the last successful sync; 0 = never
	started  atomic.Bool
	resync   chan struct{}
	onSync   func(error) // MirrorOptions.OnSync
}

// MirrorOptions configure a Mirror.
type MirrorOptions struct {
	List   *Revocations
	Source RevocationStore
	// MaxStaleness is how long the mirror counts as fresh after a
	// successful sync. Interval (default MaxStaleness/3) is how often it
	// reconciles; Timeout bounds each load.
	MaxStaleness time.Duration
	Interval     time.Duration
	Timeout      time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
	// OnSync, when set, is called after every load of the shared list
	// (at Start, then each reconciliation) with its error, nil on
	// success. It is for metrics: it must be fast and must not block.
	OnSync func(error)
}

// NewMirror returns a Mirror; Start runs it.
func NewMirror(o MirrorOptions) *Mirror {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 {
		o.Interval = max(o.MaxStaleness/3, 100*time.Millisecond)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Mirror{
		list: o.List, src: o.Source, now: o.Now, interval: o.Interval,
		maxStale: o.MaxStaleness, timeout: o.Timeout, log: o.Logger,
		resync: make(chan struct{}, 1), onSync: o.OnSync,
	}
}

// Start loads the revocations and keeps the mirror in step until ctx is
// done. It returns the error of the initial load, if any; the mirror then
// keeps retrying in the background and stays stale until it succeeds.
func (m *Mirror) Start(ctx context.Context) error {
	m.started.Store(true)
	err := m.sync(ctx)
	go m.run(ctx)
	return err
}

// Started reports whether Start was called: a mirror that never started
// (a gateway used as a library without Start) enforces no staleness.
func (m *Mirror) Started() bool { return m.started.Load() }

// Fresh reports whether the last successful sync is within MaxStaleness.
func (m *Mirror) Fresh() bool {
	last := m.lastSync.Load()
	return last != 0 && m.now().Sub(time.Unix(0, last)) <= m.maxStale
}

// Age is the time since the last successful sync (or since the epoch, if
// there was none).
func (m *Mirror) Age() time.Duration {
	return m.now().Sub(time.Unix(0, m.lastSync.Load()))
}

func (m *Mirror) run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	subscribed := false
	for {
		if !subscribed {
			err := m.src.SubscribeRevocations(ctx, m.list.Apply, m.requestResync)
			if err == nil {
				subscribed = true
				m.requestResync() // anything announced before the subscription
			} else if ctx.Err() == nil {
				m.log.Warn("revocation subscription failed; retrying", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.resync:
		}
		_ = m.sync(ctx)
	}
}

// requestResync asks the loop to reconcile soon; it never blocks.
func (m *Mirror) requestResync() {
	select {
	case m.resync <- struct{}{}:
	default:
	}
}

// sync loads every current revocation into the list.
func (m *Mirror) sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	all, err := m.src.Revocations(ctx, m.now())
	if m.onSync != nil {
		m.onSync(err)
	}
	if err != nil {
		if ctx.Err() == nil || m.Fresh() {
			m.log.Warn("revocation sync failed", "err", err, "age", m.Age().Round(time.Millisecond).String())
		}
		return err
	}
	for _, r := range all {
		m.list.Apply(r)
	}
	if !m.Fresh() && m.lastSync.Load() != 0 {
		m.log.Info("revocation mirror recovered", "entries", len(all))
	}
	m.lastSync.Store(m.now().UnixNano())
	return nil
}
