package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session/jwks"
)

// A provider's signing keys come from the same bounded key set as an
// external issuer's (session/jwks), not from go-oidc's remote key set:
// go-oidc fetches the JWKS again whenever a signature does not verify, so
// every forged token posted to the back-channel logout endpoint, which
// anyone can reach, would make the gateway fetch the provider's keys. A
// jwks.Set fetches on an unknown kid at most once per
// external_tokens.refetch_interval, honours Cache-Control within
// cache_min..cache_max, and bounds the body's size.

// oidcSigningAlgs returns the algorithms a provider's tokens may use: the
// asymmetric ones a jwks.Key can verify (see jwks.Key.Accepts; no
// P-521). A provider that names none of them in
// id_token_signing_alg_values_supported gets RS256, the default of OpenID
// Connect Discovery (section 3).
func oidcSigningAlgs() []string {
	return []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.ES256, oidc.ES384, oidc.EdDSA}
}

// providerAlgs returns the algorithms discovery allows that the gateway
// verifies, or RS256 when there are none.
func providerAlgs(discovered []string) []string {
	algs := slices.DeleteFunc(slices.Clone(discovered), func(a string) bool { return !slices.Contains(oidcSigningAlgs(), a) })
	if len(algs) == 0 {
		return []string{oidc.RS256}
	}
	return algs
}

// providerKeys is an oidc.KeySet over a bounded jwks.Set.
type providerKeys struct {
	set  *jwks.Set
	algs []jose.SignatureAlgorithm
}

// newProviderKeys builds the key set of a provider whose discovery names
// jwksURL, with the limits of external_tokens.
func newProviderKeys(issuer, jwksURL string, algs []string, p *oidcProvider, limits config.ExternalTokens) (*providerKeys, error) {
	if jwksURL == "" {
		return nil, errors.New("discovery has no jwks_uri")
	}
	set, err := jwks.New(jwks.Options{
		Issuer: issuer, URL: jwksURL, Client: p.client, Timeout: p.client.Timeout,
		MaxBytes: int64(limits.MaxJWKSBytes), RefetchInterval: limits.RefetchInterval,
		CacheMin: limits.CacheMin, CacheMax: limits.CacheMax, Now: p.now,
	})
	if err != nil {
		return nil, err
	}
	k := &providerKeys{set: set}
	for _, a := range algs {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	return k, nil
}

// VerifySignature implements oidc.KeySet: it checks the JWS signature of
// raw with the key its kid names (fetched, within the set's limits, when
// unknown) and returns the payload. go-oidc checks the algorithm against
// the verifier's list again, and every claim.
func (k *providerKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil {
		return nil, fmt.Errorf("oidc: malformed or unsupported JWS: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("oidc: a JWS must have exactly one signature")
	}
	h := jws.Signatures[0].Header
	key, err := k.set.Lookup(ctx, h.KeyID)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key: %w", err)
	}
	if !key.Accepts(h.Algorithm) {
		return nil, fmt.Errorf("oidc: key %q is %s, the token says %s", key.ID, key.Kind(), h.Algorithm)
	}
	payload, err := jws.Verify(key.Public)
	if err != nil {
		return nil, fmt.Errorf("oidc: signature: %w", err)
	}
	return payload, nil
}
