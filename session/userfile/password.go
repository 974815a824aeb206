package userfile

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// The argon2id parameters HashPassword uses. They are RFC 9106 section 4's
// second recommended option (t=3, m=64 MiB, 128-bit salt, 256-bit tag)
// with two lanes instead of four, which also meets OWASP's Password Storage
// Cheat Sheet minimum for argon2id (m=19 MiB, t=2, p=1) with room to spare.
// https://www.rfc-editor.org/rfc/rfc9106#section-4
// https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
const (
	argonTime    = 3         // passes over memory
	argonMemory  = 64 * 1024 // KiB (64 MiB)
	argonThreads = 2         // lanes
	argonSaltLen = 16        // bytes
	argonKeyLen  = 32        // bytes
)

// The most work VerifyPassword will do for one hash. Parameters are read
// from the hash string, so a hash with m=4 GiB or bcrypt cost 31 would
// otherwise let whoever writes the file (or a garbled edit) stall every
// login; such hashes are refused as invalid instead.
const (
	maxArgonMemory  = 1 << 20 // KiB (1 GiB)
	maxArgonTime    = 10
	maxArgonThreads = 16
	// bcrypt cost 16 is 2^16 rounds, several seconds per login; the
	// bcrypt package accepts up to 31 (days).
	maxBcryptCost = 16
)

// Bounds on the encoded sizes of an argon2id hash. RFC 9106 section 3.1
// allows salts from 8 bytes and tags from 4; a tag shorter than 16 bytes
// would be cheap to collide with, so it is refused.
const (
	minArgonSaltLen = 8
	maxArgonSaltLen = 64
	minArgonKeyLen  = 16
	maxArgonKeyLen  = 64
)

// bcryptMaxPassword is the length beyond which bcrypt ignores the password.
const bcryptMaxPassword = 72

var (
	// ErrInvalidHash means a password hash is not a well-formed argon2id
	// (PHC string format, version 19) or bcrypt ($2a$, $2b$, $2y$) hash,
	// or asks for more work than VerifyPassword allows.
	ErrInvalidHash = errors.New("userfile: invalid password hash")
	// ErrEmptyPassword means the password to hash was empty.
	ErrEmptyPassword = errors.New("userfile: empty password")
)

// argonParams are the cost parameters of an argon2id hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// productionParams returns the parameters HashPassword uses.
func productionParams() argonParams {
	return argonParams{memory: argonMemory, time: argonTime, threads: argonThreads}
}

// limits bound the work of verifying one hash.
type limits struct {
	argon      argonParams
	bcryptCost int
}

// productionLimits returns the bounds VerifyPassword enforces.
func productionLimits() limits {
	return limits{
		argon:      argonParams{memory: maxArgonMemory, time: maxArgonTime, threads: maxArgonThreads},
		bcryptCost: maxBcryptCost,
	}
}

// HashPassword returns an argon2id hash of password in the PHC string
// format, "$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>" (unpadded
// standard base64, a fresh random 16-byte salt, a 32-byte key), ready for
// a users file's password_hash.
func HashPassword(password string) (string, error) {
	return hashPassword(password, productionParams())
}

// hashPassword is HashPassword with the cost parameters as an argument,
// so that tests can make cheap hashes. Production code MUST call
// HashPassword.
func hashPassword(password string, p argonParams) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("userfile: generating salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key)), nil
}

// HashPasswordFrom reads one line from r and returns HashPassword of it.
// Only the line ending ("\n" or "\r\n") is removed, so a password may
// begin or end with spaces; an empty line (or empty input) is refused with
// ErrEmptyPassword. It may read past the first line.
func HashPasswordFrom(r io.Reader) (string, error) {
	password, err := readPassword(r)
	if err != nil {
		return "", err
	}
	return HashPassword(password)
}

// readPassword returns the first line of r without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("userfile: reading password: %w", err)
	}
	if l, ok := strings.CutSuffix(line, "\n"); ok {
		line = strings.TrimSuffix(l, "\r")
	}
	if line == "" {
		return "", ErrEmptyPassword
	}
	return line, nil
}

// VerifyPassword reports whether password matches hash, an argon2id hash
// in the PHC string format or a bcrypt hash. The cost parameters are read
// from hash and bounded (argon2id m <= 1 GiB, t <= 10, p <= 16; bcrypt
// cost <= 16).
//
// A hash that is not one of those, or exceeds the bounds, is an error
// matching ErrInvalidHash, never a plain false: a broken users file must
// be visible, not look like a wrong password.
//
// bcrypt ignores everything after a password's first 72 bytes, so against
// a bcrypt hash a longer password reports false rather than matching
// passwords the user never chose; rehash such users with HashPassword.
func VerifyPassword(hash, password string) (bool, error) {
	return verifyPassword(hash, password, productionLimits())
}

// verifyPassword is VerifyPassword with the work bounds as an argument, so
// that the fuzzer can keep each run cheap.
func verifyPassword(hash, password string, lim limits) (bool, error) {
	h, err := parseHash(hash, lim)
	if err != nil {
		return false, err
	}
	return h.verify(password)
}

// parsedHash is a validated password hash: argon2id when argon is set,
// otherwise bcrypt.
type parsedHash struct {
	argon  *argonHash
	bcrypt string
}

// argonHash is the decoded content of an argon2id PHC string.
type argonHash struct {
	argonParams
	salt, key []byte
}

// parseHash validates hash against lim without doing the expensive work.
func parseHash(hash string, lim limits) (parsedHash, error) {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		a, err := parseArgon2id(hash, lim.argon)
		if err != nil {
			return parsedHash{}, err
		}
		return parsedHash{argon: a}, nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		if err := checkBcrypt(hash, lim.bcryptCost); err != nil {
			return parsedHash{}, err
		}
		return parsedHash{bcrypt: hash}, nil
	}
	return parsedHash{}, fmt.Errorf("%w: want a $argon2id$ or $2a$/$2b$/$2y$ (bcrypt) hash", ErrInvalidHash)
}

func (h parsedHash) verify(password string) (bool, error) {
	if h.argon != nil {
		a := h.argon
		key := argon2.IDKey([]byte(password), a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
		return subtle.ConstantTimeCompare(key, a.key) == 1, nil
	}
	if len(password) > bcryptMaxPassword {
		return false, nil
	}
	// CompareHashAndPassword compares with crypto/subtle.
	switch err := bcrypt.CompareHashAndPassword([]byte(h.bcrypt), []byte(password)); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: bcrypt: %w", ErrInvalidHash, err)
	}
}

// parseArgon2id parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" (the PHC
// string format as the reference implementation writes it: parameters in
// that order, unpadded standard base64). Error messages never repeat the
// hash, which is a secret worth keeping out of logs.
func parseArgon2id(s string, lim argonParams) (*argonHash, error) {
	fields := strings.Split(s, "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return nil, fmt.Errorf("%w: argon2id: want $argon2id$v=19$m=...,t=...,p=...$salt$hash", ErrInvalidHash)
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("%w: argon2id: version must be v=%d", ErrInvalidHash, argon2.Version)
	}
	params := strings.Split(fields[3], ",")
	if len(params) != 3 {
		return nil, fmt.Errorf("%w: argon2id: parameters must be m=...,t=...,p=...", ErrInvalidHash)
	}
	m, err := argonParam(params[0], "m", 8, uint64(lim.memory))
	if err != nil {
		return nil, err
	}
	t, err := argonParam(params[1], "t", 1, uint64(lim.time))
	if err != nil {
		return nil, err
	}
	p, err := argonParam(params[2], "p", 1, uint64(lim.threads))
	if err != nil {
		return nil, err
	}
	// RFC 9106 section 3.1: memory is at least 8 KiB per lane.
	if m < 8*p {
		return nil, fmt.Errorf("%w: argon2id: m=%d is below 8*p=%d", ErrInvalidHash, m, 8*p)
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(fields[4])
	if err != nil {
		return nil, fmt.Errorf("%w: argon2id salt: %w", ErrInvalidHash, err)
	}
	if len(salt) < minArgonSaltLen || len(salt) > maxArgonSaltLen {
		return nil, fmt.Errorf("%w: argon2id salt is %d bytes, want %d to %d",
			ErrInvalidHash, len(salt), minArgonSaltLen, maxArgonSaltLen)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(fields[5])
	if err != nil {
		return nil, fmt.Errorf("%w: argon2id hash: %w", ErrInvalidHash, err)
	}
	if len(key) < minArgonKeyLen || len(key) > maxArgonKeyLen {
		return nil, fmt.Errorf("%w: argon2id hash is %d bytes, want %d to %d",
			ErrInvalidHash, len(key), minArgonKeyLen, maxArgonKeyLen)
	}
	return &argonHash{
		argonParams: argonParams{memory: uint32(m), time: uint32(t), threads: uint8(p)},
		salt:        salt,
		key:         key,
	}, nil
}

// argonParam parses "name=value" with lo <= value <= hi.
func argonParam(s, name string, lo, hi uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("%w: argon2id: parameters must be m=...,t=...,p=... in that order", ErrInvalidHash)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: argon2id: %s must be a number from %d to %d", ErrInvalidHash, name, lo, hi)
	}
	return n, nil
}

// bcryptAlphabet is bcrypt's base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// checkBcrypt validates "$2b$CC$" + 53 characters (22 of salt, 31 of
// hash). The bcrypt package is more lenient (any minor version, a signed
// cost, trailing bytes); a users file gets the strict form.
func checkBcrypt(s string, maxCost int) error {
	const prefixLen, bodyLen = len("$2b$10$"), 53
	if len(s) != prefixLen+bodyLen || s[6] != '$' || !isDigit(s[4]) || !isDigit(s[5]) {
		return fmt.Errorf("%w: bcrypt: want $2b$<cost>$ and 53 characters", ErrInvalidHash)
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < bcrypt.MinCost || cost > maxCost {
		return fmt.Errorf("%w: bcrypt: cost must be from %d to %d", ErrInvalidHash, bcrypt.MinCost, maxCost)
	}
	for i := prefixLen; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return fmt.Errorf("%w: bcrypt: invalid character at offset %d", ErrInvalidHash, i)
		}
	}
	return nil
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
