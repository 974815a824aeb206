package config

import "time"

// Issuer is an external token issuer (an identity provider) whose access
// tokens the gateway accepts as bearer tokens. A token is matched to an
// Issuer by its iss claim before any key is looked up.
type Issuer struct {
	// Issuer is the exact iss value of the issuer's tokens. With no
	// JWKSURL it is also the base of OpenID Connect discovery.
	Issuer string `yaml:"issuer"`
	// JWKSURL is the URL of the issuer's JSON Web Key Set. Empty means
	// discovery: Issuer + /.well-known/openid-configuration names it.
	JWKSURL string `yaml:"jwks_url"`
	// Audiences are the aud values accepted; a token must carry one.
	Audiences []string `yaml:"audiences"`
	// Algorithms are the accepted signature algorithms (asymmetric only).
	Algorithms []string `yaml:"algorithms"`
	// Claims maps the token's claims to the gateway's identity.
	Claims ClaimMapping `yaml:"claims"`
	// Require are conditions a token's identity must meet.
	Require ClaimRequirements `yaml:"require"`
	// SubjectPrefix is put in front of the mapped subject ("kc:"), so
	// that users of this issuer cannot collide with users of the users
	// file or of another issuer. Empty: the subject is used as it is.
	SubjectPrefix string `yaml:"subject_prefix"`
}

// ExternalTokens holds the settings shared by every configured issuer:
// how their tokens are checked and how their key sets are fetched.
type ExternalTokens struct {
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration `yaml:"leeway"`
	// MaxLifetime rejects tokens whose exp is further than this in the
	// future. Revocations are kept at least this long.
	MaxLifetime time.Duration `yaml:"max_lifetime"`
	// MaxTokenBytes rejects longer bearer tokens before any decoding.
	MaxTokenBytes int `yaml:"max_token_bytes"`
	// FetchTimeout bounds each discovery and JWKS request.
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// MaxJWKSBytes bounds the size of discovery and JWKS answers.
	MaxJWKSBytes int `yaml:"max_jwks_bytes"`
	// RefetchInterval is the least time between two key set fetches
	// caused by tokens naming an unknown kid.
	RefetchInterval time.Duration `yaml:"refetch_interval"`
	// CacheMin and CacheMax bound how long fetched keys are used, which
	// is otherwise the JWKS answer's Cache-Control max-age.
	CacheMin time.Duration `yaml:"cache_min"`
	CacheMax time.Duration `yaml:"cache_max"`
}

// Assertion configures the signed identity assertion: a short-lived JWT,
// signed with the gateway's key, added to every proxied request that has
// a principal, for apps that verify identity rather than trust headers.
type Assertion struct {
	// Enabled turns the assertion on.
	Enabled bool `yaml:"enabled"`
	// Header is the request header that carries it. Always stripped from
	// client requests.
	Header string `yaml:"header"`
	// Audience is the aud claim. Empty means the upstream URL's origin.
	Audience string `yaml:"audience"`
	// TTL is the assertion's lifetime (exp - iat).
	TTL time.Duration `yaml:"ttl"`
	// Claims lists further claims (from tokens.claims) to include.
	Claims []string `yaml:"claims"`
}
