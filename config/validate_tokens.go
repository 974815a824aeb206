package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// reservedClaims are claims the gateway always sets or handles itself;
// listing one in tokens.claims would let a user attribute override it.
func reservedClaims() []string {
	return []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "email", "roles", "typ"}
}

// registeredClaims are the user claims every access token carries, which
// identity headers and policy rules may use without listing them.
func registeredClaims() []string { return []string{"sub", "email", "roles", "sid"} }

// claimAvailable reports whether claim is in every access token.
func claimAvailable(claim string, extra []string) bool {
	return slices.Contains(registeredClaims(), claim) || slices.Contains(extra, claim)
}

// minHS256SecretBytes is RFC 7518 section 3.2: an HS256 key must be at
// least as long as the hash output, 256 bits.
const minHS256SecretBytes = 32

// tokens checks the access token settings.
func (v *validator) tokens(t *Tokens) {
	if strings.TrimSpace(t.Issuer) == "" {
		v.add("tokens.issuer", `set it to a name for this gateway, such as "gatehouse" or its public URL`, "must not be empty")
	}
	if strings.TrimSpace(t.Audience) == "" {
		v.add("tokens.audience", `set it to the name the upstream expects in aud, such as "gatehouse"`, "must not be empty")
	}
	v.between("tokens.access_ttl", t.AccessTTL, time.Second, 24*time.Hour)
	v.between("tokens.leeway", t.Leeway, 0, 5*time.Minute)
	if t.MaxTokenBytes < 512 || t.MaxTokenBytes > 65536 {
		v.add("tokens.max_token_bytes", "use a size from 512 to 65536 (the default is 4096)",
			"must be between 512 and 65536, got %d", t.MaxTokenBytes)
	}
	if t.VerifyCacheSize < 0 || t.VerifyCacheSize > 1_000_000 {
		v.add("tokens.verify_cache_size", "use 0 (off) or a size up to 1000000; each entry costs about 1.5 KB (the default is 4096)",
			"must be between 0 and 1000000, got %d", t.VerifyCacheSize)
	}
	seen := map[string]int{}
	for i, c := range t.Claims {
		field := fmt.Sprintf("tokens.claims[%d]", i)
		switch j, dup := seen[c]; {
		case strings.TrimSpace(c) == "":
			v.add(field, "remove the empty entry", "claim name is empty")
		case slices.Contains(reservedClaims(), c):
			v.add(field, "remove it: "+strings.Join(reservedClaims(), ", ")+
				" are always in the token or set by the gateway itself, and cannot be copied from user attributes",
				"%q is a reserved claim", c)
		case dup:
			v.add(field, "remove the duplicate", "%q is already listed as tokens.claims[%d]", c, j)
		default:
			seen[c] = i
		}
	}
}

// material names the key values set on k (private_key, public_key,
// secret).
func (k *Key) material() (names []string) {
	if k.PrivateKey != "" {
		names = append(names, "private_key")
	}
	if k.PublicKey != "" {
		names = append(names, "public_key")
	}
	if k.Secret != "" {
		names = append(names, "secret")
	}
	return names
}

// canSign reports whether k has private material (a private key or a
// secret).
func (k *Key) canSign() bool { return k.PrivateKey != "" || k.Secret != "" }

// keys checks each key's material, algorithm and kid, and that some key
// can sign. The PEM itself is parsed by package session.
func (v *validator) keys(keys []Key, signingKey string) {
	if len(keys) == 0 {
		v.add("keys", "run `gateway keygen > signing.pem` and add `keys: [{private_key_file: signing.pem}]`",
			"no keys configured: the gateway needs a key to sign access tokens")
		return
	}
	kids := map[string]int{}
	complete, canSign := true, false
	for i := range keys {
		k := &keys[i]
		p := fmt.Sprintf("keys[%d]", i)
		switch m := k.material(); len(m) {
		case 0:
			complete = false
			v.add(p, "set one of private_key_file, public_key_file or secret_file (or private_key, public_key or secret inline)",
				"has no key material")
		case 1:
			v.keyAlg(p, k)
		default:
			complete = false
			v.add(p, "give each entry one: a private key (it includes its public key), a public key (verify only) or an HS256 secret; list other keys as separate entries",
				"has more than one of %s", strings.Join(m, ", "))
		}
		canSign = canSign || k.canSign()
		if k.ID != "" {
			if j, dup := kids[k.ID]; dup {
				v.add(p+".kid", "give each key a distinct kid", "kid %q is also used by keys[%d]", k.ID, j)
			} else {
				kids[k.ID] = i
			}
		}
	}
	if signingKey != "" {
		j, ok := kids[signingKey]
		switch {
		case !ok:
			v.add("tokens.signing_key", "set it to the kid of a key with private material, or leave it empty to use the first such key",
				"no key has kid %q", signingKey)
		case !keys[j].canSign() && len(keys[j].material()) == 1:
			v.add("tokens.signing_key", "name a key with a private_key or secret: a public key can only verify",
				"key %q (keys[%d]) is a public key", signingKey, j)
		}
	} else if complete && !canSign {
		v.add("keys", "give one key a private_key (or an HS256 secret); public keys only verify tokens signed elsewhere",
			"no key can sign (all are public keys)")
	}
}

// keyAlg checks alg against the one kind of material k has.
func (v *validator) keyAlg(p string, k *Key) {
	switch k.Alg {
	case "", "EdDSA", "ES256", "RS256", "HS256":
	default:
		v.add(p+".alg", oneOf(k.Alg, "EdDSA", "ES256", "RS256", "HS256")+"; or leave it empty to infer it from the key",
			"unsupported algorithm %q", k.Alg)
		return
	}
	if k.Secret == "" {
		if k.Alg == "HS256" {
			v.add(p+".alg", "use secret_file for an HS256 key, or leave alg empty to infer EdDSA, ES256 or RS256 from the PEM key",
				"HS256 needs a secret, but this key is a PEM %s", strings.ReplaceAll(k.material()[0], "_", " "))
		}
		return
	}
	if k.Alg != "HS256" {
		v.add(p+".alg", "set alg: HS256 (a shared secret is only used with HMAC-SHA256)",
			"a secret requires alg: HS256, got %q", k.Alg)
	}
	if k.ID == "" {
		v.add(p+".kid", "set kid to a name for this secret, such as hs-2025-01: a secret has no public key to derive a kid from",
			"a secret requires an explicit kid")
	}
	if len(k.Secret) < minHS256SecretBytes {
		v.add(p+".secret", "generate one with `openssl rand -base64 48`",
			"is %d bytes; HS256 needs at least %d (RFC 7518 section 3.2)", len(k.Secret), minHS256SecretBytes)
	}
}

// session checks that the lifetimes are positive and nest: an access
// token fits inside the idle timeout, which fits inside the absolute
// lifetime.
func (v *validator) session(s *Session, accessTTL time.Duration) {
	idleOK, absOK := s.IdleTimeout > 0, s.AbsoluteLifetime > 0
	if !idleOK {
		v.add("session.idle_timeout", "use a positive duration such as 24h", "must be greater than 0, got %s", fmtDuration(s.IdleTimeout))
	}
	if !absOK {
		v.add("session.absolute_lifetime", "use a positive duration such as 168h (7 days)", "must be greater than 0, got %s", fmtDuration(s.AbsoluteLifetime))
	}
	if idleOK && absOK && s.AbsoluteLifetime < s.IdleTimeout {
		v.add("session.absolute_lifetime", "raise absolute_lifetime or lower idle_timeout: the idle timeout could never be reached",
			"%s is shorter than session.idle_timeout (%s)", fmtDuration(s.AbsoluteLifetime), fmtDuration(s.IdleTimeout))
	}
	if idleOK && s.IdleTimeout < accessTTL {
		v.add("session.idle_timeout", "raise idle_timeout or lower tokens.access_ttl: a session must outlive one access token",
			"%s is shorter than tokens.access_ttl (%s)", fmtDuration(s.IdleTimeout), fmtDuration(accessTTL))
	}
	if absOK && s.AbsoluteLifetime < accessTTL && (!idleOK || s.AbsoluteLifetime >= s.IdleTimeout) {
		v.add("session.absolute_lifetime", "raise absolute_lifetime or lower tokens.access_ttl: a session must outlive one access token",
			"%s is shorter than tokens.access_ttl (%s)", fmtDuration(s.AbsoluteLifetime), fmtDuration(accessTTL))
	}
}
