package userfile

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// verifierUsers is a Users whose one user, bob, has a real argon2id hash
// (cheap parameters: the test is about concurrency, not cost).
func verifierUsers(t *testing.T) *Users {
	t.Helper()
	u, err := Parse(fmt.Appendf(nil, "users:\n  - username: bob\n    password_hash: %q\n", cheapHash(t, "bob-password")))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestVerifierBound: many concurrent logins against a real hash never
// have more than the bound in flight. The first bound logins are held
// inside their slots until every other login has been seen waiting for
// one, so the bound is reached and tested; a login getting in beyond it
// fails the test at once.
func TestVerifierBound(t *testing.T) {
	for _, bound := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(bound), func(t *testing.T) {
			const logins = 12
			users := verifierUsers(t)
			v := NewVerifier(bound)
			type event struct {
				verify   bool
				inFlight int
			}
			events := make(chan event, 2*logins)
			release := make(chan struct{})
			var mu sync.Mutex
			entered, maxInFlight := 0, 0
			v.onWait = func() { events <- event{} }
			v.onVerify = func(n int) {
				mu.Lock()
				entered++
				first := entered <= bound
				maxInFlight = max(maxInFlight, n)
				mu.Unlock()
				events <- event{verify: true, inFlight: n}
				if first {
					<-release
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, logins)
			for i := range logins {
				wg.Go(func() {
					password := "bob-password"
					if i%2 == 1 {
						password = "wrong"
					}
					_, errs[i] = v.Authenticate(context.Background(), users, "bob", password)
				})
			}
			inside, waiting := 0, 0
			for inside < bound || waiting < logins-bound {
				e := <-events
				if e.verify {
					inside++
				} else {
					waiting++
				}
				if inside > bound || e.inFlight > bound {
					close(release)
					wg.Wait()
					t.Fatalf("%d verifications in flight with a bound of %d", max(inside, e.inFlight), bound)
				}
			}
			close(release)
			wg.Wait()
			for i, err := range errs {
				if want := error(nil); i%2 == 1 {
					want = ErrInvalidCredentials
					if !errors.Is(err, want) {
						t.Errorf("login %d (wrong password): %v, want ErrInvalidCredentials", i, err)
					}
				} else if err != nil {
					t.Errorf("login %d (right password): %v", i, err)
				}
			}
			if entered != logins || maxInFlight != bound {
				t.Errorf("%d verifications, at most %d in flight; want %d, exactly %d", entered, maxInFlight, logins, bound)
			}
		})
	}
}

// TestVerifierCanceledWhileWaiting: a login waiting for a slot whose
// client goes away returns the context's error as soon as it is
// canceled, and its password is never checked.
func TestVerifierCanceledWhileWaiting(t *testing.T) {
	users := verifierUsers(t)
	v := NewVerifier(1)
	held, release := make(chan struct{}), make(chan struct{})
	waiting := make(chan struct{}, 1)
	var verified int
	var mu sync.Mutex
	v.onWait = func() { waiting <- struct{}{} }
	v.onVerify = func(int) {
		mu.Lock()
		verified++
		first := verified == 1
		mu.Unlock()
		if first {
			close(held)
			<-release
		}
	}
	holder := make(chan error, 1)
	go func() {
		_, err := v.Authenticate(context.Background(), users, "bob", "bob-password")
		holder <- err
	}()
	<-held // the only slot is taken

	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan error, 1)
	go func() {
		_, err := v.Authenticate(ctx, users, "bob", "bob-password")
		waiter <- err
	}()
	<-waiting
	cancel()
	// The slot is still held: only the cancellation can end the wait.
	if err := <-waiter; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled while waiting: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-holder; err != nil {
		t.Errorf("the login holding the slot: %v", err)
	}
	if verified != 1 {
		t.Errorf("%d passwords checked, want 1 (the canceled login must not hash)", verified)
	}
}

// TestVerifierDoneContext: a context already done is refused before any
// wait and any hashing, even with a free slot.
func TestVerifierDoneContext(t *testing.T) {
	users := verifierUsers(t)
	v := NewVerifier(1)
	v.onWait = func() { t.Error("waited for a slot") }
	v.onVerify = func(int) { t.Error("checked the password") }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Authenticate(ctx, users, "bob", "bob-password"); !errors.Is(err, context.Canceled) {
		t.Errorf("done context: %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	if _, err := v.Authenticate(ctx, users, "bob", "bob-password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired deadline: %v, want context.DeadlineExceeded", err)
	}
}

func TestVerifierResults(t *testing.T) {
	users := verifierUsers(t)
	v := NewVerifier(0)
	if want := max(1, runtime.GOMAXPROCS(0)/2); v.Limit() != want || DefaultVerifications() != want {
		t.Errorf("NewVerifier(0).Limit() = %d, DefaultVerifications() = %d; want GOMAXPROCS/2 = %d", v.Limit(), DefaultVerifications(), want)
	}
	for _, tt := range []struct{ procs, want int }{{1, 1}, {2, 1}, {3, 1}, {4, 2}, {8, 4}} {
		if got := verificationsFor(tt.procs); got != tt.want {
			t.Errorf("%d CPUs: %d slots, want %d", tt.procs, got, tt.want)
		}
	}
	if u, err := v.Authenticate(context.Background(), users, " BOB", "bob-password"); err != nil || u.Username != "bob" {
		t.Errorf("right password: %v, %v", u, err)
	}
	for _, name := range []string{"bob", "mallory"} {
		if _, err := v.Authenticate(context.Background(), users, name, "wrong"); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s, wrong password: %v, want ErrInvalidCredentials", name, err)
		}
	}
}
