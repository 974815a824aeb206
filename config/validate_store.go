package config

import (
	"fmt"
	"net"
	"time"
)

// store checks the store and admin sections.
func (v *validator) store(c *Config) {
	s := &c.Store
	switch s.Type {
	case "memory", "bolt":
	case "redis":
		v.redis(&s.Redis)
	default:
		v.add("store.type", "use memory, bolt or redis", "unknown store %q", s.Type)
	}
	if s.Type == "bolt" && s.Path == "" {
		v.add("store.path", "set the file for the session database, such as /var/lib/gatehouse/sessions.db", "is required with store.type: bolt")
	}
	if s.Type == "redis" && c.Session.Secret == "" {
		v.add("session.secret", "set session.secret (or secret_file) to the same 32+ random bytes on every replica: `openssl rand -base64 48`",
			"is required with store.type: redis, so that every replica derives the same refresh tokens")
	}
	if s.MaxStaleness < time.Second || s.MaxStaleness > time.Hour {
		v.add("store.max_staleness", "use a duration such as 30s", "must be between 1s and 1h, got %s", fmtDuration(s.MaxStaleness))
	}
	if s.Unavailable != "deny" && s.Unavailable != "allow" {
		v.add("store.unavailable", "use deny (fail closed, the default) or allow (fail open; revocations made during the outage are not seen)",
			"unknown value %q", s.Unavailable)
	}
	if s.Timeout < 10*time.Millisecond || s.Timeout > time.Minute {
		v.add("store.timeout", "use a duration such as 2s", "must be between 10ms and 1m, got %s", fmtDuration(s.Timeout))
	}
	if d := c.Server.DrainDelay; d < 0 || d > 5*time.Minute {
		v.add("server.drain_delay", "use a few seconds, such as 5s (Kubernetes: a little more than the endpoints propagation time)", "must be between 0s and 5m, got %s", fmtDuration(d))
	}
	if d := c.Server.ShutdownTimeout; d < time.Second || d > time.Hour {
		v.add("server.shutdown_timeout", "use a duration such as 15s; keep it under the platform's kill grace period", "must be between 1s and 1h, got %s", fmtDuration(d))
	}
	a := &c.Admin
	if a.Listen != "" {
		if _, _, err := net.SplitHostPort(a.Listen); err != nil {
			v.addErr("admin.listen", "use host:port, such as 127.0.0.1:9091", err, "%q is not host:port", a.Listen)
		} else if _, port, _ := net.SplitHostPort(a.Listen); a.Listen == c.Server.Listen && port != "0" {
			v.add("admin.listen", "give the admin listener its own port", "is the same address as server.listen")
		}
	}
	if a.Token != "" && len(a.Token) < 16 {
		v.add("admin.token", "use a long random token: `openssl rand -hex 32`", "must be at least 16 characters, got %d", len(a.Token))
	}
}

func (v *validator) redis(r *Redis) {
	if len(r.Addrs) == 0 {
		v.add("store.redis.addrs", "list the server's host:port, e.g. [127.0.0.1:6379]", "is required with store.type: redis")
	}
	for i, a := range r.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			v.addErr(fmt.Sprintf("store.redis.addrs[%d]", i), "use host:port", err, "%q is not host:port", a)
		}
	}
	if r.Cluster && r.MasterName != "" {
		v.add("store.redis.cluster", "choose one: cluster: true for Redis Cluster, or master_name for Sentinel", "cannot be combined with master_name")
	}
	if r.Cluster && r.DB != 0 {
		v.add("store.redis.db", "remove db: Redis Cluster has only database 0", "must be 0 with cluster: true")
	}
	if r.DB < 0 || r.DB > 15 {
		v.add("store.redis.db", "use a database index from 0 to 15", "got %d", r.DB)
	}
	if r.CAFile != "" && !r.TLS {
		v.add("store.redis.ca_file", "set tls: true, or remove ca_file", "has no effect without tls: true")
	}
	for _, d := range []struct {
		field string
		val   time.Duration
	}{{"dial_timeout", r.DialTimeout}, {"read_timeout", r.ReadTimeout}, {"write_timeout", r.WriteTimeout}} {
		if d.val < 0 {
			v.add("store.redis."+d.field, "use a positive duration such as 1s", "must not be negative")
		}
	}
	if r.PoolSize < 0 {
		v.add("store.redis.pool_size", "use 0 for the default or a positive size", "must not be negative")
	}
}
