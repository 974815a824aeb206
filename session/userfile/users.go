package userfile

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"

	"github.com/gatehouse/gatehouse/session"
)

var (
	// ErrInvalidCredentials means the username is unknown or the password
	// is wrong. The two are deliberately indistinguishable.
	ErrInvalidCredentials = errors.New("userfile: invalid username or password")
	// ErrDisabled means the password was right but the account is
	// disabled. Authenticate returns it only after the right password, so
	// it reveals nothing to someone guessing.
	ErrDisabled = errors.New("userfile: account disabled")
)

// dummyHash is verified for usernames that are not in the file, so that
// a login for an unknown user costs as much as one for a known user. It
// has HashPassword's parameters (TestDummyHashMatchesHashPassword keeps it
// so) and is the hash of a random password nobody kept; it could not
// admit anyone anyway, since Authenticate rejects unknown users whatever
// the verification says.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$DOUKm8m9j4DCgjtEYpK9YQ$rviR1URUJU6kESxiG+c0eP4FqTAQINDptMZdysNTuik"

// User is one entry of a users file.
type User struct {
	// Username is the name as written in the file, trimmed of spaces.
	// Users are looked up by Normalize(Username).
	Username string
	// Email is the user's email address, or "".
	Email string
	// Roles are the user's roles, in file order.
	Roles []string
	// Claims are the extra claims, as JSON values (numbers are float64,
	// lists []any, objects map[string]any): what they will be in a token.
	Claims map[string]any
	// Disabled accounts cannot log in (see ErrDisabled).
	Disabled bool

	// hash is the validated password hash. It is never logged or
	// included in an error.
	hash string
}

// Identity returns the identity the gateway vouches for after u logs in:
// the normalised username as subject, and copies of Email, Roles and
// Claims (so that changing the Identity cannot change the snapshot).
func (u *User) Identity() session.Identity {
	return session.Identity{
		Subject: Normalize(u.Username),
		Email:   u.Email,
		Roles:   slices.Clone(u.Roles),
		Claims:  cloneJSON(u.Claims).(map[string]any),
	}
}

// LogValue implements slog.LogValuer. It leaves out the password hash,
// which is worth keeping out of logs (it can be attacked offline).
func (u *User) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", u.Username),
		slog.String("email", u.Email),
		slog.Any("roles", u.Roles),
		slog.Bool("disabled", u.Disabled),
	)
}

// Users is an immutable snapshot of a users file, keyed by normalised
// username. It is safe for concurrent use. The *User values it returns are
// shared: callers MUST NOT modify them (User.Identity returns copies).
type Users struct {
	byName map[string]*User
}

// Lookup returns the user whose normalised username is Normalize(username).
func (u *Users) Lookup(username string) (*User, bool) {
	user, ok := u.byName[Normalize(username)]
	return user, ok
}

// Len returns the number of users.
func (u *Users) Len() int { return len(u.byName) }

// Authenticate returns the user named username if password is theirs.
//
// It fails with ErrInvalidCredentials both for an unknown username and
// for a wrong password, and takes about as long for either: an unknown
// username is checked against dummyHash, an argon2id hash with
// HashPassword's parameters. (Users whose hash is bcrypt take bcrypt's
// time instead, which is distinguishable from the dummy's; rehash them
// with HashPassword for uniform timing.) ErrDisabled is returned only
// when the password is right.
//
// Any other error means the stored hash could not be checked; Parse
// validates every hash, so it does not happen for a Users from Parse.
func (u *Users) Authenticate(username, password string) (*User, error) {
	user, known := u.Lookup(username)
	hash := dummyHash
	if known {
		hash = user.hash
	}
	ok, err := VerifyPassword(hash, password)
	switch {
	case err != nil:
		return nil, fmt.Errorf("userfile: checking password: %w", err)
	case !known || !ok:
		return nil, ErrInvalidCredentials
	case user.Disabled:
		return nil, ErrDisabled
	}
	return user, nil
}

// Normalize returns the form of username that users are stored and looked
// up by: surrounding white space trimmed and letters case-folded, so that
// "Alice", "alice" and " ALICE " are one user. Two names are the same user
// exactly when strings.EqualFold says so after trimming.
//
// strings.ToLower alone would keep apart names that EqualFold (Unicode
// simple case folding) joins: the Kelvin sign and "k", final and medial
// sigma, long s and "s". Without golang.org/x/text there is no Unicode
// normalisation: a precomposed "é" and "e" plus a combining accent remain
// different names.
func Normalize(username string) string {
	return strings.Map(foldRune, strings.TrimSpace(username))
}

// foldRune returns one representative of r's simple case folding orbit
// (the runes unicode.SimpleFold cycles through, which EqualFold treats as
// equal): the lower case of the orbit's smallest rune if that is in the
// orbit, as it is for every letter with case ("K", "k" and the Kelvin
// sign give "k"), else the smallest rune itself.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	lower := unicode.ToLower(least)
	for f := unicode.SimpleFold(least); f != least; f = unicode.SimpleFold(f) {
		if f == lower {
			return lower
		}
	}
	return least
}

// cloneJSON deep-copies a JSON value: the composite types are exactly
// map[string]any and []any, the others are immutable.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return map[string]any(nil)
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		if v == nil {
			return []any(nil)
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}
