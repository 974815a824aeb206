package proxy

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/session"
	"golang.org/x/oauth2"
)

// oidcSourcePrefix starts the Record.Source of sessions from a provider.
const oidcSourcePrefix = "oidc:"

// sealKeyLabel separates the sealing key from the refresh-token keys
// derived from the same secret.
const sealKeyLabel = "gatehouse oidc refresh token seal v1"

// sealer encrypts provider refresh tokens for the session record
// (AES-256-GCM, bound to the source and subject as additional data), so
// the store — Redis, a bolt file, a backup of either — never holds a
// usable provider credential. Its key is derived from the refresh-token
// key, so it lives exactly as long as the sessions it protects.
type sealer struct{ aead cipher.AEAD }

func newSealer(refreshKey []byte) *sealer {
	m := hmac.New(sha256.New, refreshKey)
	m.Write([]byte(sealKeyLabel))
	block, _ := aes.NewCipher(m.Sum(nil)) // 32 bytes: cannot fail
	aead, _ := cipher.NewGCM(block)       // cannot fail for AES
	return &sealer{aead: aead}
}

func (s *sealer) seal(plain, ad string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(plain), []byte(ad))
}

func (s *sealer) open(sealed []byte, ad string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed value too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return "", fmt.Errorf("unsealing: %w", err)
	}
	return string(plain), nil
}

// keepRefreshToken returns the sealed refresh token to keep in the new
// session's record, when the provider's recheck is on. A provider that
// issued none cannot be asked again, so the sign-in is refused rather
// than silently never re-checked.
func (p *oidcProvider) keepRefreshToken(tok *oauth2.Token, subject string) ([]byte, error) {
	if !p.recheck {
		return nil, nil
	}
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("%w: recheck is on but the provider issued no refresh token (add offline_access to scopes, or allow refresh tokens for the client)", errTokenInvalid)
	}
	return p.seal.seal(tok.RefreshToken, p.source+"\x00"+subject), nil
}

// fresh answers session.FreshIdentity for a session from provider name.
// A provider removed from the configuration ends its sessions. Without
// recheck, the identity from sign-in is kept.
//
// Each re-check is counted in gatehouse_oidc_recheck_total under the
// configured provider's name: ok, ended, or unavailable. Answers that ask
// nothing (no recheck, no kept token, within the grace window, a provider
// no longer configured) are not re-checks and are not counted.
func (o *oidcLogins) fresh(ctx context.Context, name string, rec session.Record, log *slog.Logger, m *metrics.Metrics) (session.Fresh, error) {
	p := o.byName[name]
	if p == nil {
		return session.Fresh{}, fmt.Errorf("%w: provider %q is no longer configured", session.ErrSessionRevoked, name)
	}
	keep := session.Fresh{Identity: rec.Identity}
	if !p.recheck || len(rec.SourceSecret) == 0 {
		return keep, nil
	}
	// Asked already within the refresh grace window: this is a parallel
	// request or a lost response, which the store answers with the same
	// successor (and would drop a rotated provider token).
	if p.now().Before(rec.PrevValidUntil) {
		return keep, nil
	}
	f, err := p.recheckUser(ctx, rec)
	if errors.Is(err, errProviderUnavailable) {
		// Availability over freshness: the session goes on with what the
		// provider last said, and the next rotation asks again.
		m.OIDCRecheck(p.name, metrics.RecheckUnavailable)
		log.Warn("oidc recheck: provider unavailable; keeping the session's identity", "provider", name, "session", rec.ID, "cause", err.Error())
		return keep, nil
	}
	if err != nil {
		m.OIDCRecheck(p.name, metrics.RecheckEnded)
		log.Info("oidc recheck: the provider no longer vouches for the user; session ended", "provider", name, "session", rec.ID, "user", rec.Identity.Subject, "cause", err.Error())
		return session.Fresh{}, fmt.Errorf("%w: %w", session.ErrSessionRevoked, err)
	}
	m.OIDCRecheck(p.name, metrics.RecheckOK)
	return f, nil
}

// rechecking returns the names of the providers whose recheck is on: the
// provider label values of gatehouse_oidc_recheck_total.
func (o *oidcLogins) rechecking() []string {
	var names []string
	for _, p := range o.list {
		if p.recheck {
			names = append(names, p.name)
		}
	}
	return names
}

// recheckUser redeems the session's refresh token at the provider. The
// provider refusing it (invalid_grant: the user was removed or disabled,
// the grant or session revoked) is an error; so is an identity that no
// longer meets the requirements. Fresh claims come from the new ID token
// (and userinfo, when configured); a rotated refresh token is sealed for
// the record.
func (p *oidcProvider) recheckUser(ctx context.Context, rec session.Record) (session.Fresh, error) {
	ad := p.source + "\x00" + rec.Identity.Subject
	rt, err := p.seal.open(rec.SourceSecret, ad)
	if err != nil {
		return session.Fresh{}, fmt.Errorf("%w: the kept refresh token: %w", errTokenInvalid, err)
	}
	d, err := p.discover()
	if err != nil {
		return session.Fresh{}, err
	}
	ctx = p.ctx(ctx)
	tok, err := d.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		return session.Fresh{}, tokenEndpointError(err)
	}
	// The successful refresh is the re-check; fresh claims come from a
	// new ID token or, without one, from userinfo when configured.
	f := session.Fresh{Identity: rec.Identity}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		idt, err := d.verifier.Verify(ctx, raw)
		if err != nil {
			return session.Fresh{}, fmt.Errorf("%w: refreshed id_token: %w", errTokenInvalid, err)
		}
		if f.Identity, err = p.mapClaims(ctx, d, tok, idt); err != nil {
			return session.Fresh{}, err
		}
	} else if p.userinfo {
		ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return session.Fresh{}, fmt.Errorf("%w: userinfo: %w", errProviderUnavailable, err)
		}
		claims := map[string]any{}
		if err := ui.Claims(&claims); err != nil {
			return session.Fresh{}, fmt.Errorf("%w: userinfo claims: %w", errTokenInvalid, err)
		}
		if f.Identity, err = p.mapping.Identity(claims); err != nil {
			return session.Fresh{}, err
		}
	}
	if f.Identity.Subject != rec.Identity.Subject {
		return session.Fresh{}, fmt.Errorf("%w: the provider now names another subject", errTokenInvalid)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		f.SourceSecret = p.seal.seal(tok.RefreshToken, ad)
	}
	return f, nil
}

// LogValue keeps the key out of logs.
func (s *sealer) LogValue() slog.Value { return slog.StringValue("[sealer]") }
