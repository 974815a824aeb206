package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

const (
	benchKID      = "bench"
	benchIssuer   = "gatehouse-bench"
	benchAudience = "bench-app"
	benchUser     = "alice"
)

// keyMaterial is the gateway's signing key and what the driver needs to
// mint the tokens a correct gateway must refuse.
type keyMaterial struct {
	pemFile string
	key     *session.Key
	forger  *session.Key // another key under the same kid
}

// writeKey writes the signing key into dir.
func writeKey(dir string) (keyMaterial, error) {
	var km keyMaterial
	gen := func() (*session.Key, []byte, error) {
		k, err := session.GenerateKey("EdDSA")
		if err != nil {
			return nil, nil, err
		}
		pem, err := k.PrivatePEM()
		if err != nil {
			return nil, nil, err
		}
		k, err = session.ParseKey(config.Key{ID: benchKID, PrivateKey: string(pem)})
		return k, pem, err
	}
	k, pem, err := gen()
	if err != nil {
		return km, err
	}
	km.key = k
	if km.forger, _, err = gen(); err != nil {
		return km, err
	}
	km.pemFile = filepath.Join(dir, "signing.pem")
	return km, os.WriteFile(km.pemFile, pem, 0o600)
}

// gatewayConfig writes the gateway configuration for one instance and
// returns its path. The policy, identity headers and revocation list are
// all on: this is the full request path.
// extra is appended (the issuers: section of the external gateways).
func gatewayConfig(dir, name, listen, upstream string, km keyMaterial, cacheSize int, extra string) (string, error) {
	doc := fmt.Sprintf(`server:
  listen: %q
upstream:
  url: %q
admin:
  listen: ""
keys:
  - kid: %s
    private_key_file: %q
tokens:
  issuer: %s
  audience: %s
  access_ttl: 1h   # the tokens must outlive the whole load run
  verify_cache_size: %d
store:
  type: memory
cookie:
  secure: false
trusted_proxies: ["127.0.0.1/32"]
policy:
  default: authenticated
  rules:
    - name: app
      path_prefix: /
      roles_any: [user]
log:
  level: warn
`, listen, upstream, benchKID, km.pemFile, benchIssuer, benchAudience, cacheSize) + extra
	path := filepath.Join(dir, name+".yaml")
	return path, os.WriteFile(path, []byte(doc), 0o600)
}

// cookieName is the session cookie's name with cookie.secure: false
// (docs/configuration.md, cookie.name).
const cookieName = "gatehouse"

// tokens mints the access token the load sends — as another replica
// sharing the signing key would; no password login, whose argon2id hash
// (64 MiB by design) would dominate the gateway's peak RSS — and the
// tokens a correct gateway must refuse: forged (our kid, another key),
// expired, and for another audience (our key).
func tokens(km keyMaterial) (good string, bad map[string]string, err error) {
	mint := func(k *session.Key, aud string, now time.Time) (string, error) {
		ks, err := session.NewKeySet([]*session.Key{k}, "")
		if err != nil {
			return "", err
		}
		cfg := config.Default().Tokens
		cfg.Issuer, cfg.Audience = benchIssuer, aud
		// As the gateway's access_ttl: the default 5m would expire the
		// load's token in the middle of a long run.
		cfg.AccessTTL = time.Hour
		tk, err := session.NewTokens(cfg, ks, func() time.Time { return now })
		if err != nil {
			return "", err
		}
		raw, _, err := tk.Mint(session.Identity{Subject: benchUser, Roles: []string{"user"}}, session.NewID())
		return raw, err
	}
	now := time.Now()
	if good, err = mint(km.key, benchAudience, now); err != nil {
		return "", nil, err
	}
	out := map[string]string{}
	if out["forged"], err = mint(km.forger, benchAudience, now); err != nil {
		return "", nil, err
	}
	if out["expired"], err = mint(km.key, benchAudience, now.Add(-2*time.Hour)); err != nil {
		return "", nil, err
	}
	if out["wrong audience"], err = mint(km.key, "another-app", now); err != nil {
		return "", nil, err
	}
	return good, out, nil
}
