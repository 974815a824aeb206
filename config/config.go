// Package config holds Gatehouse's typed configuration: the YAML schema, its
// defaults (written down once, in defaults.go), loading with ${ENV} expansion
// and *_file secrets, and validation that names each bad field and its fix.
//
// Every key is documented in docs/configuration.md.
package config

import "time"

// Config is the whole gateway configuration, as decoded from one YAML file.
type Config struct {
	// Server is the public listener.
	Server Server `yaml:"server"`
	// PublicURL is the externally visible origin of the gateway
	// (https://app.example.com). It is used to build login redirects and to
	// check cookie settings. Optional.
	PublicURL string `yaml:"public_url"`
	// AuthPrefix is the path under which the gateway serves its own
	// endpoints (login, refresh, logout, session, verify, jwks.json).
	AuthPrefix string `yaml:"auth_prefix"`
	// Upstream is the default application: authorized requests whose rule
	// names no upstream are proxied to it. Its URL may be empty when every
	// rule that lets requests through names an upstream; a request routed
	// nowhere is answered 404 NO_ROUTE.
	Upstream Upstream `yaml:"upstream"`
	// Upstreams are further applications, by name; a route rule sends its
	// requests to one with upstream: NAME. Each entry has the settings of
	// Upstream and starts from the same defaults.
	Upstreams map[string]Upstream `yaml:"upstreams"`
	// TrustedProxies lists the CIDRs (or single IPs) of peers whose
	// X-Forwarded-*, Forwarded and X-Real-IP headers are believed. Empty
	// means no peer is trusted.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Tokens configures the access tokens the gateway issues and verifies.
	Tokens Tokens `yaml:"tokens"`
	// Keys are the signing and verification keys. One signs
	// (Tokens.SigningKey, or the first key with private material); the
	// others only verify, which is how keys are rotated.
	Keys []Key `yaml:"keys"`
	// Session holds the lifetimes of a session.
	Session Session `yaml:"session"`
	// Store says where sessions and revocations are kept.
	Store Store `yaml:"store"`
	// Admin configures the admin listener (health, metrics, sessions).
	Admin Admin `yaml:"admin"`
	// CORS configures cross-origin requests; the same allowlist feeds CSRF
	// protection and return-URL validation.
	CORS CORS `yaml:"cors"`
	// Cookie defines the single session cookie used in cookie mode.
	Cookie Cookie `yaml:"cookie"`
	// IdentityHeaders names the headers that carry the verified identity to
	// the upstream, and the client headers that are stripped first.
	IdentityHeaders IdentityHeaders `yaml:"identity_headers"`
	// Policy holds the route rules.
	Policy Policy `yaml:"policy"`
	// Login configures the built-in login page and its users file.
	Login Login `yaml:"login"`
	// OIDC configures sign-in through OpenID Connect providers.
	OIDC OIDC `yaml:"oidc"`
	// Grant configures upstream-grant login, for legacy apps that keep
	// their own login form.
	Grant Grant `yaml:"grant"`
	// Issuers are external token issuers whose bearer tokens are
	// accepted (see Issuer).
	Issuers []Issuer `yaml:"issuers"`
	// ExternalTokens holds the settings shared by all Issuers.
	ExternalTokens ExternalTokens `yaml:"external_tokens"`
	// Assertion configures the signed identity assertion header.
	Assertion Assertion `yaml:"assertion"`
	// Log configures structured logging.
	Log Log `yaml:"log"`
}

// Server configures the public HTTP listener.
type Server struct {
	// Listen is the address of the public listener, host:port.
	Listen string `yaml:"listen"`
	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request including its body;
	// 0 means no limit (uploads and WebSockets need that).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response; 0 means no limit (SSE and
	// WebSockets need that).
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds keep-alive idleness between requests.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds the size of request headers.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// DrainDelay is how long the gateway keeps serving after SIGTERM with
	// /readyz already failing, so load balancers stop sending traffic
	// before the listener closes.
	DrainDelay time.Duration `yaml:"drain_delay"`
	// ShutdownTimeout bounds how long in-flight requests may take to
	// finish after the listener closes.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Upstream is an application behind the gateway and how it is reached.
type Upstream struct {
	// URL is the base URL of the application (http://127.0.0.1:3000).
	URL string `yaml:"url"`
	// DialTimeout bounds connecting to the upstream.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ResponseHeaderTimeout bounds waiting for the upstream's response
	// headers; past it the client gets 504 UPSTREAM_TIMEOUT.
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	// IdleConnTimeout is how long an idle pooled connection is kept.
	IdleConnTimeout time.Duration `yaml:"idle_conn_timeout"`
	// MaxIdleConnsPerHost is the size of the idle connection pool.
	MaxIdleConnsPerHost int `yaml:"max_idle_conns_per_host"`
	// TLS configures https connections to the upstream.
	TLS UpstreamTLS `yaml:"tls"`
	// HTTP2 speaks HTTP/2 to the upstream: over TLS for https, with prior
	// knowledge (h2c) for http. The upstream must support it.
	HTTP2 bool `yaml:"http2"`
}

// Tokens configures the gateway's own access tokens (JWTs).
type Tokens struct {
	// Issuer is the iss claim set and required.
	Issuer string `yaml:"issuer"`
	// Audience is the aud claim set and required.
	Audience string `yaml:"audience"`
	// AccessTTL is the lifetime of an access token.
	AccessTTL time.Duration `yaml:"access_ttl"`
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration `yaml:"leeway"`
	// MaxTokenBytes rejects longer tokens before any parsing.
	MaxTokenBytes int `yaml:"max_token_bytes"`
	// SigningKey is the kid of the key that signs new tokens. Empty means
	// the first key in Keys that has private material.
	SigningKey string `yaml:"signing_key"`
	// Claims lists extra user claims copied into access tokens (and so
	// available to identity headers). Keep it short: the token travels in
	// a cookie.
	Claims []string `yaml:"claims"`
	// VerifyCacheSize is how many verified access tokens are kept, so a
	// token seen before skips its signature check (revocation is still
	// checked every time). 0 turns the cache off.
	VerifyCacheSize int `yaml:"verify_cache_size"`
}

// Key is one signing or verification key.
//
// Asymmetric keys are PEM: a PKCS#8 (or SEC 1 / PKCS#1) private key, which
// can sign and verify, or a PKIX public key, which only verifies. The
// algorithm is inferred from the key type when Alg is empty (Ed25519 ->
// EdDSA, P-256 -> ES256, RSA -> RS256). HS256 requires Alg: HS256, a Secret
// of at least 32 bytes, and an explicit ID.
type Key struct {
	// ID is the kid. Empty means the RFC 7638 thumbprint of the public key.
	ID string `yaml:"kid"`
	// Alg is EdDSA, ES256, RS256 or HS256.
	Alg string `yaml:"alg"`
	// PrivateKey is a PEM private key; PrivateKeyFile reads it from a file.
	PrivateKey     string `yaml:"private_key"`
	PrivateKeyFile string `yaml:"private_key_file"`
	// PublicKey is a PEM public key (verify only); PublicKeyFile reads it
	// from a file.
	PublicKey     string `yaml:"public_key"`
	PublicKeyFile string `yaml:"public_key_file"`
	// Secret is the HS256 shared secret; SecretFile reads it from a file.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// Session holds the lifetimes of a session (the refresh half of the cookie).
type Session struct {
	// IdleTimeout ends a session not refreshed for this long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// AbsoluteLifetime ends a session this long after login, whatever
	// happens. It is also the cookie's Max-Age.
	AbsoluteLifetime time.Duration `yaml:"absolute_lifetime"`
	// RefreshGrace is how long a rotated-away refresh token still yields
	// the same successor (parallel requests, lost responses) before
	// presenting it counts as reuse.
	RefreshGrace time.Duration `yaml:"refresh_grace"`
	// Secret keys the refresh-token chain (at least 32 bytes; every
	// replica sharing a store needs the same one). Empty: the bolt store
	// generates one and keeps it in its file, the memory store uses a
	// random one per process, and the redis store requires it.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// Cookie defines the one session cookie: set, read and cleared with the
// same attributes.
type Cookie struct {
	// Name is the cookie name. Empty means "__Host-gatehouse" when the
	// cookie is host-only, Secure and Path=/, otherwise "gatehouse".
	Name string `yaml:"name"`
	// Domain makes the cookie visible to subdomains. Empty means host-only
	// (recommended).
	Domain string `yaml:"domain"`
	// Path is the cookie path.
	Path string `yaml:"path"`
	// Secure sends the cookie only over HTTPS (browsers treat
	// http://localhost as secure too). Default true.
	Secure *bool `yaml:"secure"`
	// SameSite is lax, strict or none (none requires Secure).
	SameSite string `yaml:"same_site"`
	// Legacy lists cookies left by older settings (another name, Domain or
	// Path); logout and cookie errors clear them too.
	Legacy []LegacyCookie `yaml:"legacy"`
}

// LegacyCookie is a cookie an older configuration may have left behind.
type LegacyCookie struct {
	// Name is the cookie name.
	Name string `yaml:"name"`
	// Domain is the Domain it was set with; empty for host-only.
	Domain string `yaml:"domain"`
	// Path is the Path it was set with. Default "/".
	Path string `yaml:"path"`
}

// Login configures the built-in login.
type Login struct {
	// UsersFile is the YAML users file (username, password_hash, email,
	// roles, claims, disabled). Empty disables the login form.
	UsersFile string `yaml:"users_file"`
	// RedirectOrigins are the absolute origins (https://app.example.com)
	// a return URL (rd) may point to, besides relative paths on this host.
	RedirectOrigins []string `yaml:"redirect_origins"`
	// Form shows the username and password form on the login page and
	// accepts POST <auth_prefix>/login. false leaves only the OIDC
	// providers.
	Form bool `yaml:"form"`
	// PerIP and PerUser limit login attempts.
	PerIP   RateLimit `yaml:"per_ip"`
	PerUser RateLimit `yaml:"per_user"`
}

// RateLimit allows Attempts per Window (a token bucket that refills
// evenly over the window).
type RateLimit struct {
	Attempts int           `yaml:"attempts"`
	Window   time.Duration `yaml:"window"`
}

// Grant configures upstream-grant login: the upstream's response carries
// an HMAC-signed identity in Header, and the gateway turns it into a
// session. Disabled while Secret is empty.
type Grant struct {
	// Header is the response header carrying the grant. It is always
	// stripped from client requests and from responses.
	Header string `yaml:"header"`
	// Secret is the shared HMAC-SHA256 key (at least 32 bytes).
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// MaxAge bounds how old a grant's iat may be.
	MaxAge time.Duration `yaml:"max_age"`
}

// IdentityHeaders names the headers that carry the verified identity.
type IdentityHeaders struct {
	// User carries the subject (sub).
	User string `yaml:"user"`
	// Email carries the email claim.
	Email string `yaml:"email"`
	// Roles carries the roles, comma-separated.
	Roles string `yaml:"roles"`
	// Session carries the session id (sid).
	Session string `yaml:"session"`
	// Claims maps extra claim names to header names.
	Claims map[string]string `yaml:"claims"`
	// StripPrefixes: every client header starting with one of these is
	// removed before proxying, in any spelling (case, "_" or "." for "-").
	StripPrefixes []string `yaml:"strip_prefixes"`
	// Strip lists further client headers to remove, in any spelling.
	Strip []string `yaml:"strip"`
}

// Policy holds the route rules, matched first to last.
type Policy struct {
	// Default is the access for requests no rule matches: authenticated,
	// public or deny.
	Default string `yaml:"default"`
	// Rules are tried in file order; the first match decides.
	Rules []Rule `yaml:"rules"`
}

// Rule is one route rule. A request matches when host, path (or
// path_prefix) and method all match; an empty field matches anything.
type Rule struct {
	// Name appears in logs and decisions. Default "rules[N]".
	Name string `yaml:"name"`
	// Host is an exact host name or "*.example.com" (any subdomain, not
	// the apex).
	Host string `yaml:"host"`
	// Path is an exact path or a glob: "*" matches within one segment,
	// "**" any number of whole segments ("/api/**").
	Path string `yaml:"path"`
	// PathPrefix matches the path and everything below it, on segment
	// boundaries ("/api" matches "/api" and "/api/x", not "/apix").
	PathPrefix string `yaml:"path_prefix"`
	// Methods restricts the rule to these methods (upper case).
	Methods []string `yaml:"methods"`
	// Access is public, authenticated or deny. Default authenticated.
	Access string `yaml:"access"`
	// RolesAny requires at least one of these roles.
	RolesAny []string `yaml:"roles_any"`
	// RolesAll requires every one of these roles.
	RolesAll []string `yaml:"roles_all"`
	// Claims requires these claim values (email_verified: true).
	Claims map[string]any `yaml:"claims"`

	// The route options below say where an allowed request goes and how
	// (docs/routing.md). Empty means the top-level setting.

	// Upstream names an entry of upstreams. Empty means the default
	// upstream.
	Upstream string `yaml:"upstream"`
	// StripPrefix is removed from the path before proxying ("/legacy"
	// sends /legacy/x as /x); the upstream receives it in
	// X-Forwarded-Prefix. Every path the rule matches must start with it.
	StripPrefix string `yaml:"strip_prefix"`
	// RewriteRedirects puts StripPrefix back in front of the upstream's
	// Location headers and Set-Cookie paths, for apps that assume they
	// live at "/".
	RewriteRedirects bool `yaml:"rewrite_redirects"`
	// PassAuthorization forwards the client's Authorization header even
	// when the gateway consumed the bearer token in it.
	PassAuthorization bool `yaml:"pass_authorization"`
	// ForwardAuthRefresh is the forward-auth refresh mode for requests
	// this rule matches (inline, redirect or deny), overriding the verify
	// URL's refresh parameter.
	ForwardAuthRefresh string `yaml:"forward_auth_refresh"`
	// AssertionAudience is the aud of the identity assertion sent to this
	// rule's upstream, instead of assertion.audience (whose default is the
	// origin of the rule's upstream).
	AssertionAudience string `yaml:"assertion_audience"`
	// CORS, when set, replaces the top-level cors block for this rule's
	// requests; keys it omits take their defaults, not the top level's.
	CORS *CORS `yaml:"cors"`
	// IdentityHeaders renames identity headers for this rule's upstream
	// and adds fixed request headers.
	IdentityHeaders *RouteHeaders `yaml:"identity_headers"`
}

// Log configures structured logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
	// Debug lists the debug areas switched on: cors, session, refresh,
	// policy, forwardauth, store. The admin API can switch them at runtime.
	Debug []string `yaml:"debug"`
	// Access logs one line per request (method, path, status, duration,
	// request id; never headers, cookies or query strings).
	Access bool `yaml:"access"`
}

// Store says where sessions and revocations are kept.
type Store struct {
	// Type is memory (one process, lost on restart), bolt (a local file,
	// one replica) or redis (shared by replicas). Default bolt.
	Type string `yaml:"type"`
	// Path is the bolt database file.
	Path string `yaml:"path"`
	// Redis configures the redis type.
	Redis Redis `yaml:"redis"`
	// MaxStaleness is how long the local revocation mirror may go without
	// a successful sync before Unavailable applies.
	MaxStaleness time.Duration `yaml:"max_staleness"`
	// Unavailable is what happens to requests with otherwise valid access
	// tokens once the mirror is staler than MaxStaleness: deny (503
	// STORE_UNAVAILABLE, fail closed) or allow (fail open: revocations
	// made meanwhile are not seen).
	Unavailable string `yaml:"unavailable"`
	// Timeout bounds every store operation.
	Timeout time.Duration `yaml:"timeout"`
}

// Redis configures a Redis server, Sentinel group or Cluster.
type Redis struct {
	// Addrs are host:port addresses: one server, the Cluster seed nodes,
	// or the Sentinels (with MasterName).
	Addrs []string `yaml:"addrs"`
	// Cluster selects Redis Cluster.
	Cluster bool `yaml:"cluster"`
	// MasterName selects Sentinel: the name of the monitored master.
	MasterName string `yaml:"master_name"`
	// DB is the database index (not with Cluster).
	DB int `yaml:"db"`
	// Username and Password authenticate (ACL or requirepass).
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// SentinelPassword authenticates to the Sentinels, if they need it.
	SentinelPassword     string `yaml:"sentinel_password"`
	SentinelPasswordFile string `yaml:"sentinel_password_file"`
	// TLS enables TLS; CAFile adds a CA; ServerName overrides SNI.
	TLS        bool   `yaml:"tls"`
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
	// KeyPrefix starts every key, so several gateways can share a server.
	KeyPrefix string `yaml:"key_prefix"`
	// DialTimeout, ReadTimeout and WriteTimeout bound network operations.
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PoolSize is the connection pool size per node; 0 is go-redis's
	// default (10 per CPU).
	PoolSize int `yaml:"pool_size"`
}

// Admin configures the admin listener. It is separate from the public one
// and should stay on loopback or a private network.
type Admin struct {
	// Listen is the admin address, host:port. Empty disables it.
	Listen string `yaml:"listen"`
	// Token is the bearer token the session API requires (compared in
	// constant time). Empty disables the session API; health stays up.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
}

// CORS configures cross-origin resource sharing, answered by the gateway
// for the app. An empty AllowedOrigins means no cross-origin access.
type CORS struct {
	// AllowedOrigins are exact origins (https://app.example.com) or
	// subdomain patterns (https://*.example.com, never the apex). "null"
	// is allowed only when listed literally.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowCredentials lets browsers send cookies cross-origin
	// (Access-Control-Allow-Credentials: true). Default true.
	AllowCredentials *bool `yaml:"allow_credentials"`
	// AllowedMethods are the methods a preflight may ask for.
	AllowedMethods []string `yaml:"allowed_methods"`
	// AllowedHeaders are request headers a preflight may ask for, besides
	// the gateway's own (Authorization, Content-Type, X-Auth-Mode,
	// X-Requested-With), which are always allowed.
	AllowedHeaders []string `yaml:"allowed_headers"`
	// ExposedHeaders are response headers scripts may read, besides the
	// gateway's own (X-Request-Id, WWW-Authenticate, Retry-After).
	ExposedHeaders []string `yaml:"exposed_headers"`
	// MaxAge is how long browsers may cache a preflight answer.
	MaxAge time.Duration `yaml:"max_age"`
	// KeepUpstreamHeaders keeps the Access-Control-* headers the upstream
	// sets instead of replacing them, for apps that manage their own CORS.
	KeepUpstreamHeaders bool `yaml:"keep_upstream_headers"`
}

// CredentialsAllowed reports whether credentialed CORS is on (the default).
func (c CORS) CredentialsAllowed() bool { return c.AllowCredentials == nil || *c.AllowCredentials }
