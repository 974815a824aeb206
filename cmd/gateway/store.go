package main

import (
	"io"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/boltstore"
	"github.com/gatehouse/gatehouse/session/memstore"
	"github.com/gatehouse/gatehouse/session/redisstore"
)

// openStore opens the configured session store. The closer releases it.
func openStore(c config.Store) (session.Store, io.Closer, error) {
	switch c.Type {
	case "memory":
		return memstore.New(memstore.Options{}), io.NopCloser(nil), nil
	case "redis":
		s, err := redisstore.New(c.Redis, redisstore.Options{Timeout: c.Timeout})
		if err != nil {
			return nil, nil, &config.FieldError{Field: "store.redis", Problem: "cannot set up the Redis client", Err: err,
				Fix: "check store.redis.addrs, credentials and TLS settings"}
		}
		return s, s, nil
	}
	s, err := boltstore.Open(c.Path, boltstore.Options{Timeout: min(c.Timeout, 5*time.Second)})
	if err != nil {
		return nil, nil, &config.FieldError{Field: "store.path", Problem: "cannot open the session database", Err: err,
			Fix: "point store.path at a writable file on a local disk (its directory must exist), or use store.type: memory"}
	}
	return s, s, nil
}
