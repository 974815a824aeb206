package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/config"
)

// KeySet is the configured keys, by kid: one signer and any number of
// verify-only keys (rotation: publish the new key, switch the signer, drop
// the old key after one access-token lifetime). It is immutable and safe
// for concurrent use.
type KeySet struct {
	byID   map[string]*Key
	order  []*Key
	signer *Key
	jwks   []byte
}

// LoadKeySet parses every configured key and builds the set. signingKID
// (tokens.signing_key) names the signer; empty means the first key with
// private material. All problems are returned at once, joined, each a
// *config.FieldError naming "keys[i]", "keys[i].alg", "keys[i].kid",
// "keys" or "tokens.signing_key" with its fix.
func LoadKeySet(keys []config.Key, signingKID string) (*KeySet, error) {
	var errs []error
	parsed := make([]*Key, 0, len(keys))
	index := make([]int, 0, len(keys))
	for i, c := range keys {
		k, err := ParseKey(c)
		if err != nil {
			errs = append(errs, keyFieldErrors(fmt.Sprintf("keys[%d]", i), err)...)
			continue
		}
		parsed = append(parsed, k)
		index = append(index, i)
	}
	ks, err := buildKeySet(parsed, index, signingKID, len(errs) > 0)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ks, nil
}

// NewKeySet builds a set from already parsed keys; signingKID as in
// LoadKeySet. Problems are *config.FieldErrors naming keys[i] by position
// in keys.
func NewKeySet(keys []*Key, signingKID string) (*KeySet, error) {
	index := make([]int, len(keys))
	for i := range keys {
		index[i] = i
		if keys[i] == nil {
			return nil, config.Problemf(fmt.Sprintf("keys[%d]", i), "pass only non-nil keys", "key is nil")
		}
	}
	return buildKeySet(keys, index, signingKID, false)
}

// buildKeySet checks kids for duplicates, picks the signer and renders the
// JWKS. index[i] is the configuration position of keys[i]. When some keys
// already failed to parse (partial), "no signer" problems are not reported:
// the signer may be among the broken keys, and the user has that to fix
// first.
func buildKeySet(keys []*Key, index []int, signingKID string, partial bool) (*KeySet, error) {
	var errs []error
	ks := &KeySet{byID: make(map[string]*Key, len(keys))}
	first := make(map[string]int, len(keys))
	for i, k := range keys {
		if j, dup := first[k.id]; dup {
			field := fmt.Sprintf("keys[%d].kid", index[i])
			if k.jwk != nil && k.jwk.thumbprint() == k.id {
				// No explicit kid: the thumbprint collided, so it is the same key.
				field = fmt.Sprintf("keys[%d]", index[i])
			}
			errs = append(errs, config.Problemf(field,
				"give each key a distinct kid, or remove the duplicate key",
				"kid %q is also used by keys[%d]", k.id, index[j]))
			continue
		}
		first[k.id] = i
		ks.byID[k.id] = k
		ks.order = append(ks.order, k)
	}

	switch {
	case signingKID != "":
		k, ok := ks.byID[signingKID]
		switch {
		case !ok && !partial:
			errs = append(errs, config.Problemf("tokens.signing_key",
				"set it to the kid of a configured key with private material, or leave it empty",
				"no key has kid %q", signingKID))
		case ok && !k.canSign():
			errs = append(errs, config.Problemf("tokens.signing_key",
				"configure private_key for that key, or name a key that has one",
				"key %q is verify-only (public key)", signingKID))
		}
		ks.signer = k
	default:
		for _, k := range ks.order {
			if k.canSign() {
				ks.signer = k
				break
			}
		}
		if ks.signer == nil && !partial {
			if len(keys) == 0 {
				errs = append(errs, config.Problem("keys", "no keys configured",
					"add a key: gateway keygen writes one (private_key_file)"))
			} else {
				errs = append(errs, config.Problem("keys", "no key can sign (all are public keys)",
					"give one key a private_key (or an HS256 secret)"))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	jwks, err := renderJWKS(ks.order)
	if err != nil {
		return nil, err
	}
	ks.jwks = jwks
	return ks, nil
}

// keyFieldErrors turns ParseKey's problems into FieldErrors under prefix.
func keyFieldErrors(prefix string, err error) []error {
	var out []error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var kp *keyProblem
		if errors.As(err, &kp) {
			field := prefix
			if kp.field != "" {
				field += "." + kp.field
			}
			out = append(out, &config.FieldError{Field: field, Problem: kp.problem, Fix: kp.fix, Err: kp.err})
			return
		}
		out = append(out, &config.FieldError{Field: prefix, Problem: "invalid key", Err: err})
	}
	walk(err)
	return out
}

// renderJWKS returns {"keys":[...]} with the public JWK of every
// asymmetric key, in configuration order. HS256 secrets are never
// published.
func renderJWKS(keys []*Key) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range keys {
		if k.jwk == nil {
			continue
		}
		j := *k.jwk
		j.Kid, j.Alg, j.Use = k.id, k.alg, "sig"
		set.Keys = append(set.Keys, j)
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("session: rendering JWKS: %w", err)
	}
	return b, nil
}

// Signer returns the key that signs new tokens.
func (ks *KeySet) Signer() *Key { return ks.signer }

// JWKS returns the public keys as a JSON Web Key Set (RFC 7517 section 5),
// rendered once at construction. Each call returns a fresh copy, so a
// caller cannot alter what later callers see.
func (ks *KeySet) JWKS() []byte { return bytes.Clone(ks.jwks) }

// key returns the key named kid.
func (ks *KeySet) key(kid string) (*Key, bool) {
	k, ok := ks.byID[kid]
	return k, ok
}
