package config

import (
	"reflect"
	"time"
)

// Default returns the configuration every loaded file starts from. It is
// the one place defaults are written down; docs/configuration.md repeats
// them and a test keeps the two in step.
func Default() Config {
	secure := true
	return Config{
		Server: Server{
			Listen:            ":8080",
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ShutdownTimeout:   15 * time.Second,
		},
		AuthPrefix: "/.auth",
		Upstream:   defaultUpstream(),
		Tokens: Tokens{
			Issuer:        "gatehouse",
			Audience:      "gatehouse",
			AccessTTL:     5 * time.Minute,
			Leeway:        30 * time.Second,
			MaxTokenBytes: 4096,
			// ~1.5 KB each (session.BenchmarkVerifyCacheMemory): 6 MB at most.
			VerifyCacheSize: 4096,
		},
		Session: Session{
			IdleTimeout:      24 * time.Hour,
			AbsoluteLifetime: 7 * 24 * time.Hour,
			RefreshGrace:     30 * time.Second,
		},
		Store: Store{
			Type:         "bolt",
			Path:         "gatehouse-sessions.db",
			MaxStaleness: 30 * time.Second,
			Unavailable:  "deny",
			Timeout:      2 * time.Second,
			Redis: Redis{
				KeyPrefix:    "gatehouse:",
				DialTimeout:  2 * time.Second,
				ReadTimeout:  time.Second,
				WriteTimeout: time.Second,
			},
		},
		Admin: Admin{Listen: "127.0.0.1:9091"},
		CORS:  defaultCORS(),
		Cookie: Cookie{
			Path:     "/",
			Secure:   &secure,
			SameSite: "lax",
		},
		IdentityHeaders: IdentityHeaders{
			User:          "X-Auth-User",
			Email:         "X-Auth-Email",
			Roles:         "X-Auth-Roles",
			Session:       "X-Auth-Session",
			StripPrefixes: []string{"X-Auth-"},
		},
		Policy: Policy{Default: "authenticated"},
		Login: Login{
			Form:    true,
			PerIP:   RateLimit{Attempts: 20, Window: time.Minute},
			PerUser: RateLimit{Attempts: 5, Window: time.Minute},
		},
		OIDC:  OIDC{StateTTL: 10 * time.Minute, Timeout: 10 * time.Second},
		Grant: Grant{Header: "Gatehouse-Grant", MaxAge: time.Minute},
		ExternalTokens: ExternalTokens{
			Leeway:          30 * time.Second,
			MaxLifetime:     24 * time.Hour,
			MaxTokenBytes:   16384,
			FetchTimeout:    5 * time.Second,
			MaxJWKSBytes:    256 << 10,
			RefetchInterval: 30 * time.Second,
			CacheMin:        5 * time.Minute,
			CacheMax:        24 * time.Hour,
		},
		Assertion: Assertion{Header: "X-Auth-Assertion", TTL: 30 * time.Second},
		Log:       Log{Level: "info", Format: "json"},
	}
}

// defaultUpstream is the default of upstream and of every entry of
// upstreams.
func defaultUpstream() Upstream {
	return Upstream{
		DialTimeout:           5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   128,
	}
}

// defaultCORS is the default of cors and of a route rule's cors block.
func defaultCORS() CORS {
	credentials := true
	return CORS{
		AllowCredentials: &credentials,
		AllowedMethods:   []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
		MaxAge:           10 * time.Minute,
	}
}

// entryDefault is what a mapping decoded into a new value of struct type
// t starts from: an entry of upstreams, or a rule's cors block. Other
// types start from their zero value.
func entryDefault(t reflect.Type) reflect.Value {
	switch t {
	case reflect.TypeFor[Upstream]():
		return reflect.ValueOf(defaultUpstream())
	case reflect.TypeFor[CORS]():
		return reflect.ValueOf(defaultCORS())
	}
	return reflect.New(t).Elem()
}

// DefaultOIDCScopes are the scopes requested from an OIDC provider that
// lists none (a list entry cannot take its default from Default()).
func DefaultOIDCScopes() []string { return []string{"openid", "email", "profile"} }
