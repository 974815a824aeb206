package userfile

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
)

// Verifier checks logins against a Users snapshot, running at most a
// fixed number of password verifications at once. It is safe for
// concurrent use; one Verifier is meant to serve every login of a process
// (the gateway keeps its own across reloads).
//
// The bound is for memory, not CPU: an argon2id verification with
// HashPassword's parameters holds 64 MiB for its whole duration, so N
// logins at once cost N×64 MiB. The per-IP and per-user rate limits do
// not stop a flood from many addresses; without a bound, 32 concurrent
// wrong-password logins took the gateway to 2 GB of RSS, and a 128 MiB
// container is OOM-killed by two. With the bound, and the garbage
// collection after each check (see Authenticate's code), the hashes'
// memory is about n×64 MiB whatever the flood, and the logins beyond it
// wait their turn (they would have shared the same CPUs anyway: see
// DefaultVerifications).
type Verifier struct {
	slots    chan struct{}
	inFlight atomic.Int32

	// Hooks for tests; nil in production. onWait is called when a login
	// finds every slot taken and starts waiting; onVerify inside a slot,
	// before the password is checked, with the number of checks then in
	// flight.
	onWait   func()
	onVerify func(inFlight int)
}

// NewVerifier returns a Verifier running at most n password
// verifications at once; n <= 0 means DefaultVerifications().
func NewVerifier(n int) *Verifier {
	if n <= 0 {
		n = DefaultVerifications()
	}
	return &Verifier{slots: make(chan struct{}, n)}
}

// DefaultVerifications is the bound NewVerifier(0) uses: the CPUs the
// process may use (runtime.GOMAXPROCS(0); since Go 1.25, the container's
// CPU limit rounded up, but at least 2) divided by the lanes of
// HashPassword's hashes, and at least 1. One argon2id verification
// already keeps that many CPUs busy (golang.org/x/crypto/argon2 fills its
// lanes in parallel goroutines), so more slots would add 64 MiB each and
// no throughput: with GOMAXPROCS 2, bursts of 32 concurrent logins took
// 2.4–4.0 s with one slot and 2.4–5.0 s with two, at a peak RSS of 84 MB
// instead of 150–215 MB (docs/performance.md, "Login memory").
func DefaultVerifications() int { return verificationsFor(runtime.GOMAXPROCS(0)) }

// verificationsFor is DefaultVerifications for procs CPUs.
func verificationsFor(procs int) int { return max(1, procs/argonThreads) }

// Limit returns the most verifications v runs at once.
func (v *Verifier) Limit() int { return cap(v.slots) }

// Authenticate is users.Authenticate (same results, same errors, same
// cost for known and unknown users) once one of v's slots is free.
//
// While every slot is taken it waits, honouring ctx: if ctx is done
// before a slot frees up — the client went away — it returns an error
// matching ctx.Err() (context.Canceled, context.DeadlineExceeded) at once,
// without checking the password. A ctx already done returns that error
// without waiting or checking.
func (v *Verifier) Authenticate(ctx context.Context, users *Users, username, password string) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("userfile: not checking a password: %w", err)
	}
	select {
	case v.slots <- struct{}{}:
	default:
		if v.onWait != nil {
			v.onWait()
		}
		select {
		case v.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("userfile: waiting to check a password: %w", ctx.Err())
		}
	}
	defer func() { <-v.slots }()
	n := v.inFlight.Add(1)
	defer v.inFlight.Add(-1)
	if v.onVerify != nil {
		v.onVerify(int(n))
	}
	// Collect the hash's 64 MiB before the slot goes to the next login
	// (defers run last-in first-out: this one first). Otherwise it stays
	// as garbage until the heap doubles, the next hash is allocated beside
	// it, and the peak is twice the bound: measured with the gateway
	// binary and 32 concurrent logins, 150 MB of RSS with one slot
	// without this, 84 MB with it. A cycle over the gateway's small live
	// heap costs far less than the argon2id pass it follows.
	defer runtime.GC()
	return users.Authenticate(username, password)
}
