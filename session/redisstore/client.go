package redisstore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/config"
)

// New returns a Store on the Redis that cfg describes: a Cluster when
// cfg.Cluster is set (Addrs are seed nodes), a Sentinel-managed master
// when cfg.MasterName is set (Addrs are the Sentinels), else the single
// server Addrs[0]. It does not connect: the first operation (or Ping)
// does, so a gateway can start while Redis is still coming up.
//
// Password and SentinelPassword are used as given; the config loader has
// already read the *_file variants into them.
func New(cfg config.Redis, opts Options) (*Store, error) {
	uo, err := universalOptions(cfg)
	if err != nil {
		return nil, err
	}
	var c redis.UniversalClient
	switch {
	case cfg.Cluster:
		c = redis.NewClusterClient(uo.Cluster())
	case cfg.MasterName != "":
		c = redis.NewFailoverClient(uo.Failover())
	default:
		// Not redis.NewUniversalClient: it would silently make a Cluster
		// client of two addresses meant as one server.
		c = redis.NewClient(uo.Simple())
	}
	return NewFromClient(c, cfg.KeyPrefix, opts), nil
}

// universalOptions checks cfg and translates it. It reports every problem
// at once, each naming its field.
func universalOptions(cfg config.Redis) (*redis.UniversalOptions, error) {
	var errs []error
	switch {
	case len(cfg.Addrs) == 0:
		errs = append(errs, errors.New("redisstore: addrs: at least one address is required"))
	case len(cfg.Addrs) > 1 && !cfg.Cluster && cfg.MasterName == "":
		errs = append(errs, fmt.Errorf("redisstore: addrs: %d addresses for a single server; set cluster: true for a Cluster or master_name for Sentinel", len(cfg.Addrs)))
	}
	for i, a := range cfg.Addrs {
		if a == "" {
			errs = append(errs, fmt.Errorf("redisstore: addrs[%d]: empty address", i))
		}
	}
	if cfg.Cluster && cfg.MasterName != "" {
		errs = append(errs, errors.New("redisstore: cluster and master_name: choose one (Cluster or Sentinel)"))
	}
	if cfg.Cluster && cfg.DB != 0 {
		errs = append(errs, fmt.Errorf("redisstore: db: %d is not supported by Redis Cluster; use 0", cfg.DB))
	}
	if cfg.DB < 0 {
		errs = append(errs, fmt.Errorf("redisstore: db: %d is negative", cfg.DB))
	}
	var tlsConfig *tls.Config
	if cfg.TLS {
		var err error
		if tlsConfig, err = tlsFor(cfg); err != nil {
			errs = append(errs, err)
		}
	} else if cfg.CAFile != "" || cfg.ServerName != "" {
		errs = append(errs, errors.New("redisstore: ca_file and server_name need tls: true"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &redis.UniversalOptions{
		Addrs:            cfg.Addrs,
		IsClusterMode:    cfg.Cluster,
		MasterName:       cfg.MasterName,
		DB:               cfg.DB,
		Username:         cfg.Username,
		Password:         cfg.Password,
		SentinelPassword: cfg.SentinelPassword,
		TLSConfig:        tlsConfig,
		DialTimeout:      cfg.DialTimeout,
		ReadTimeout:      cfg.ReadTimeout,
		WriteTimeout:     cfg.WriteTimeout,
		PoolSize:         cfg.PoolSize,
		// Let each call's context deadline (Options.Timeout) bound its
		// network waits too, not only Read/WriteTimeout.
		ContextTimeoutEnabled: true,
	}, nil
}

// tlsFor is the TLS configuration for cfg: TLS 1.2 or later, the system
// roots plus CAFile, and ServerName if set (else the host of each
// address).
func tlsFor(cfg config.Redis) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName}
	if cfg.CAFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("redisstore: ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system roots here: the CA file alone
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("redisstore: ca_file: %s holds no PEM certificate", cfg.CAFile)
	}
	c.RootCAs = pool
	return c, nil
}
