package config

import "time"

// Default returns the configuration every loaded file starts from. It is
// the one place defaults are written down; docs/configuration.md repeats
// them and a test keeps the two in step.
func Default() Config {
	secure, credentials := true, true
	return Config{
		Server: Server{
			Listen:            ":8080",
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ShutdownTimeout:   15 * time.Second,
		},
		AuthPrefix: "/.auth",
		Upstream: Upstream{
			DialTimeout:           5 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   128,
		},
		Tokens: Tokens{
			Issuer:        "gatehouse",
			Audience:      "gatehouse",
			AccessTTL:     5 * time.Minute,
			Leeway:        30 * time.Second,
			MaxTokenBytes: 4096,
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
		CORS: CORS{
			AllowCredentials: &credentials,
			AllowedMethods:   []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
			MaxAge:           10 * time.Minute,
		},
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
			PerIP:   RateLimit{Attempts: 20, Window: time.Minute},
			PerUser: RateLimit{Attempts: 5, Window: time.Minute},
		},
		Grant: Grant{Header: "Gatehouse-Grant", MaxAge: time.Minute},
		Log:   Log{Level: "info", Format: "json"},
	}
}
