package session

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// RefreshTokens mints and checks refresh tokens. A refresh token is
//
//	<session id> "." <secret> "." <mac>
//
// where secret is 256 bits (random at login; at each rotation derived
// from the parent token with HMAC, so presenting the same parent twice —
// parallel requests, a lost response — yields the same successor and the
// chain never branches), and mac authenticates the first two parts, so a
// token the gateway never issued is rejected as invalid instead of being
// taken for a reused one (the session id is not secret: knowing it must
// not let anyone revoke a session).
type RefreshTokens struct {
	derive []byte
	mac    []byte
}

// NewRefreshTokens returns a RefreshTokens keyed by secret (at least 32
// bytes). Every replica sharing a store must use the same secret.
func NewRefreshTokens(secret []byte) (*RefreshTokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("session: refresh secret must be at least 32 bytes, got %d", len(secret))
	}
	sub := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("gatehouse refresh " + label))
		return m.Sum(nil)
	}
	return &RefreshTokens{derive: sub("derive"), mac: sub("mac")}, nil
}

var rb64 = base64.RawURLEncoding

// NewID returns a new random session id (128 bits, base64url).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return rb64.EncodeToString(b[:])
}

// New returns the first refresh token of session sid.
func (rt *RefreshTokens) New(sid string) string {
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	return rt.assemble(sid, secret[:])
}

// Successor returns the token that replaces token at rotation. It is a
// pure function of token: the same parent always has the same successor.
func (rt *RefreshTokens) Successor(sid, token string) string {
	m := hmac.New(sha256.New, rt.derive)
	m.Write([]byte(token))
	return rt.assemble(sid, m.Sum(nil))
}

func (rt *RefreshTokens) assemble(sid string, secret []byte) string {
	body := sid + "." + rb64.EncodeToString(secret)
	return body + "." + rb64.EncodeToString(rt.sign(body))
}

func (rt *RefreshTokens) sign(body string) []byte {
	m := hmac.New(sha256.New, rt.mac)
	m.Write([]byte(body))
	return m.Sum(nil)[:16]
}

// Parse checks that token is a refresh token this gateway issued and
// returns its session id. It does not say whether the token is current:
// only the Store knows that.
func (rt *RefreshTokens) Parse(token string) (sid string, err error) {
	if len(token) > 256 {
		return "", fmt.Errorf("%w: %w", ErrInvalidToken, ErrTokenTooLarge)
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", fmt.Errorf("%w: %w: refresh token", ErrInvalidToken, ErrMalformedToken)
	}
	body, macPart := token[:i], token[i+1:]
	sid, secret, ok := strings.Cut(body, ".")
	if !ok || sid == "" || len(secret) != 43 || strings.Contains(secret, ".") {
		return "", fmt.Errorf("%w: %w: refresh token", ErrInvalidToken, ErrMalformedToken)
	}
	got, err := rb64.DecodeString(macPart)
	if err != nil {
		return "", fmt.Errorf("%w: %w: refresh token", ErrInvalidToken, ErrMalformedToken)
	}
	if !hmac.Equal(got, rt.sign(body)) {
		return "", fmt.Errorf("%w: %w: refresh token", ErrInvalidToken, ErrBadSignature)
	}
	return sid, nil
}

// HashRefreshToken is the form in which a Store keeps a refresh token.
func HashRefreshToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
