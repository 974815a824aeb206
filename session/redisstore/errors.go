package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// unavailable reports whether err means that Redis could not serve the
// request in time, as opposed to a refusal or a bug (a wrong type, a
// script error): those are not infrastructure failures and must not be
// reported as an outage.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled), // the caller's time is up, as for memstore
		errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted),
		// A connection cut mid-reply (the server was killed) reads as EOF,
		// which is not a net.Error.
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true // timeouts, refused and reset connections, DNS
	}
	// Replies that mean "not now" rather than "no": a server replaying
	// its append-only file, a Cluster without quorum or in resharding, a
	// replica that lost its master, a master being failed over.
	return redis.IsLoadingError(err) ||
		redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) ||
		redis.IsReadOnlyError(err)
}
