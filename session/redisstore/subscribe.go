package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/session"
)

// Subscription tuning. A quiet connection is probed with PING after
// idleProbe; if nothing (not even the PONG) arrives within the Store's
// Timeout after that, the connection is taken for dead and replaced: a
// peer that vanished without closing the TCP connection is noticed too.
const (
	idleProbe  = 3 * time.Second
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// SubscribeRevocations delivers revocations published on the Store's
// channel to fn until ctx is done or the Store is closed. It returns once
// Redis has confirmed the subscription, or with an error wrapping
// session.ErrStoreUnavailable if it could not within the timeout.
//
// When the connection breaks it resubscribes, retrying with backoff for as
// long as it takes, and calls resync after each new subscription, since
// announcements made meanwhile were lost. Once ctx is done, fn and resync
// are not called any more (a call already running finishes). fn and resync
// run on the subscription's goroutine, one at a time.
func (s *Store) SubscribeRevocations(ctx context.Context, fn func(session.Revocation), resync func()) error {
	ps, err := s.subscribe(ctx)
	if err != nil {
		return s.fail("subscribe to revocations", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ps.Close()
		return fmt.Errorf("redisstore: subscribe to revocations: %w: %w", session.ErrStoreUnavailable, redis.ErrClosed)
	}
	s.subs.Add(1)
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{s: s, ctx: ctx, fn: fn, resync: resync, ps: ps}
	// Stop on ctx or on Close, whichever is first; closing the PubSub
	// interrupts a blocked receive.
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	stop := context.AfterFunc(ctx, sub.close)
	go func() {
		defer s.subs.Done()
		defer stop()
		defer cancel()
		sub.run()
	}()
	return nil
}

// subscribe opens a PubSub on the channel and waits for the confirmation.
func (s *Store) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	ps := s.client.Subscribe(ctx, s.channel())
	msg, err := ps.ReceiveTimeout(ctx, s.timeout)
	if err == nil {
		if _, ok := msg.(*redis.Subscription); ok {
			return ps, nil
		}
		err = fmt.Errorf("unexpected %T before the subscription confirmation", msg)
	}
	_ = ps.Close()
	return nil, err
}

// subscription is one SubscribeRevocations loop.
type subscription struct {
	s      *Store
	ctx    context.Context
	fn     func(session.Revocation)
	resync func()

	mu     sync.Mutex
	ps     *redis.PubSub // the current connection's PubSub
	closed bool
}

// close stops the loop: it closes the current PubSub, and any later one.
func (sub *subscription) close() {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.closed = true
	if sub.ps != nil {
		_ = sub.ps.Close()
	}
}

// swap replaces the current PubSub; it reports false (closing ps) if the
// subscription was stopped meanwhile.
func (sub *subscription) swap(ps *redis.PubSub) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ps != nil {
		_ = sub.ps.Close()
	}
	sub.ps = ps
	if sub.closed && ps != nil {
		_ = ps.Close()
		return false
	}
	return !sub.closed
}

func (sub *subscription) current() *redis.PubSub {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.ps
}

// run receives until the subscription stops, replacing broken connections.
func (sub *subscription) run() {
	for {
		sub.receive(sub.current())
		if !sub.swap(nil) || sub.ctx.Err() != nil {
			return
		}
		ps := sub.reconnect()
		if ps == nil || !sub.swap(ps) {
			return
		}
		sub.notifyResync()
	}
}

// reconnect subscribes again, with backoff, until it works or the
// subscription stops (then it returns nil).
func (sub *subscription) reconnect() *redis.PubSub {
	backoff := minBackoff
	for {
		t := time.NewTimer(backoff)
		select {
		case <-sub.ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if ps, err := sub.s.subscribe(sub.ctx); err == nil {
			return ps
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// receive delivers messages from ps until its connection fails or the
// subscription stops.
func (sub *subscription) receive(ps *redis.PubSub) {
	probed := false
	for {
		wait := sub.s.probe
		if probed {
			wait = sub.s.timeout
		}
		msg, err := ps.ReceiveTimeout(sub.ctx, wait)
		if err != nil {
			if sub.ctx.Err() != nil || probed || !isTimeout(err) {
				return
			}
			pctx, cancel := sub.s.withTimeout(sub.ctx)
			err := ps.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
			probed = true
			continue
		}
		probed = false
		switch msg := msg.(type) {
		case *redis.Message:
			var m revMessage
			if err := json.Unmarshal([]byte(msg.Payload), &m); err != nil || m.revocation(m.Until).Validate() != nil {
				// Not ours (someone else published on the channel): the
				// durable set, which the mirror reconciles with, is
				// authoritative anyway.
				continue
			}
			if sub.ctx.Err() == nil {
				sub.fn(m.revocation(m.Until))
			}
		case *redis.Subscription:
			// go-redis reconnected and resubscribed on its own (after a
			// failed write): announcements may have been lost.
			if msg.Kind == "subscribe" {
				sub.notifyResync()
			}
		}
	}
}

func (sub *subscription) notifyResync() {
	if sub.ctx.Err() == nil && sub.resync != nil {
		sub.resync()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
