package userfile

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

func TestParseGood(t *testing.T) {
	users := testUsers(t)
	if users.Len() != 4 {
		t.Fatalf("Len = %d, want 4", users.Len())
	}
	alice, ok := users.Lookup("alice")
	if !ok {
		t.Fatal(`Lookup("alice") found nothing`)
	}
	want := &User{
		Username: "Alice",
		Email:    "alice@example.com",
		Roles:    []string{"admin", "user"},
		// JSON values, as in a token: numbers are float64.
		Claims: map[string]any{
			"department": "research", "email_verified": true, "level": float64(3), "groups": []any{"a", "b"},
		},
		hash: "$argon2id$v=19$m=64,t=1,p=1$oB8UPs3HjkZWZ3oIQedoQQ$utbyRdT9OVZpXzSI+BKdON1NlwafonY9bpJ0ZV5EokA",
	}
	if !reflect.DeepEqual(alice, want) {
		t.Errorf("alice = %+v\nwant    %+v", alice, want)
	}
	if carol, _ := users.Lookup("carol"); carol == nil || !carol.Disabled {
		t.Errorf("carol = %+v, want disabled", carol)
	}
	if dave, _ := users.Lookup("dave"); dave == nil || !strings.HasPrefix(dave.hash, "$2a$") {
		t.Errorf("dave = %+v, want a bcrypt hash", dave)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "null\n", "users:\n", "users: []\n"} {
		users, err := Parse([]byte(in))
		if err != nil || users == nil || users.Len() != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no users", in, users, err)
		}
	}
}

// problem is one expected *config.FieldError: its field and the line its
// Problem starts with.
type problem struct {
	field string
	line  int
}

func TestParseProblems(t *testing.T) {
	hash := cheapHash(t, "pw")
	user := func(name string) string {
		return fmt.Sprintf("  - username: %s\n    password_hash: %q\n", name, hash)
	}
	tests := []struct {
		name string
		in   string
		want []problem
		// is, when set, must match the joined error with errors.Is.
		is error
	}{
		{
			name: "unknown key in a user",
			in:   "users:\n" + user("alice") + "    passwrd: x\n",
			want: []problem{{"users[0].passwrd", 4}},
		},
		{
			name: "unknown top-level key",
			in:   "users:\n" + user("alice") + "user:\n  - username: bob\n",
			want: []problem{{"user", 4}},
		},
		{
			name: "repeated key",
			in:   "users:\n" + user("alice") + "    username: bob\n",
			want: []problem{{"users[0].username", 4}},
		},
		{
			name: "duplicate username after normalisation",
			in:   "users:\n" + user("Alice") + user(`" alice "`),
			want: []problem{{"users[1].username", 4}},
		},
		{
			name: "duplicate of a broken entry is still reported",
			in:   "users:\n" + user("alice") + "    roles: admin\n  - username: ALICE\n",
			want: []problem{{"users[0].roles", 4}, {"users[1].password_hash", 5}, {"users[1].username", 5}},
		},
		{
			name: "bad hash",
			in:   "users:\n" + user("a") + user("b") + "  - username: c\n    password_hash: $2a$04$tooshort\n",
			want: []problem{{"users[2].password_hash", 7}},
			is:   ErrInvalidHash,
		},
		{
			name: "missing username and hash",
			in:   "users:\n  - email: a@example.com\n",
			want: []problem{{"users[0].username", 2}, {"users[0].password_hash", 2}},
		},
		{
			name: "empty username",
			in:   "users:\n" + user(`"  "`),
			want: []problem{{"users[0].username", 2}},
		},
		{
			name: "control character in username",
			in:   "users:\n" + user(`"al\nice"`),
			want: []problem{{"users[0].username", 2}},
		},
		{
			name: "username not a string",
			in:   "users:\n  - username: [a]\n    password_hash: " + fmt.Sprintf("%q", hash) + "\n",
			want: []problem{{"users[0].username", 2}},
		},
		{
			name: "bad email",
			in:   "users:\n" + user("alice") + "    email: Alice <alice@example.com>\n",
			want: []problem{{"users[0].email", 4}},
		},
		{
			name: "bad roles",
			in:   "users:\n" + user("alice") + "    roles: [admin, \"\", \"user \", [x], \"a,b\"]\n",
			want: []problem{{"users[0].roles[1]", 4}, {"users[0].roles[2]", 4}, {"users[0].roles[3]", 4}, {"users[0].roles[4]", 4}},
		},
		{
			name: "roles not a list",
			in:   "users:\n" + user("alice") + "    roles: admin\n",
			want: []problem{{"users[0].roles", 4}},
		},
		{
			name: "registered claim names",
			in:   "users:\n" + user("alice") + "    claims:\n      sub: root\n      Email: x\n      team: a\n",
			want: []problem{{"users[0].claims.sub", 5}, {"users[0].claims.Email", 6}},
		},
		{
			name: "claim not representable in JSON",
			in:   "users:\n" + user("alice") + "    claims: {score: .inf}\n",
			want: []problem{{"users[0].claims", 4}},
		},
		{
			name: "nested claim with non-string keys",
			in:   "users:\n" + user("alice") + "    claims: {levels: {1: a}}\n",
			want: []problem{{"users[0].claims", 4}},
		},
		{
			name: "disabled not a boolean",
			in:   "users:\n" + user("alice") + "    disabled: sometimes\n",
			want: []problem{{"users[0].disabled", 4}},
		},
		{
			name: "top level not a mapping",
			in:   "- username: alice\n",
			want: []problem{{"users", 1}},
		},
		{
			name: "users not a list",
			in:   "users:\n  alice: {}\n",
			want: []problem{{"users", 2}},
		},
		{
			name: "user not a mapping",
			in:   "users:\n  - alice\n" + user("bob"),
			want: []problem{{"users[0]", 2}},
		},
		{
			name: "all problems at once",
			in: "users:\n" +
				user("alice") + "    roles: [\"\"]\n" + // line 4
				"  - username: bob\n    password_hash: nope\n" + // line 6
				user("ALICE") + // line 7
				"  - {username: carol, password_hash: " + fmt.Sprintf("%q", hash) + ", disabled: 2}\n", // line 9
			want: []problem{
				{"users[0].roles[0]", 4},
				{"users[1].password_hash", 6},
				{"users[2].username", 7},
				{"users[3].disabled", 9},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded with %d users; want %v", users.Len(), tt.want)
			}
			if users != nil {
				t.Errorf("Parse returned users with an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error does not match %v: %v", tt.is, err)
			}
			fes := config.FieldErrors(err)
			var got []problem
			for _, fe := range fes {
				var line int
				if _, scanErr := fmt.Sscanf(fe.Problem, "line %d:", &line); scanErr != nil {
					t.Errorf("%s: problem %q does not start with its line", fe.Field, fe.Problem)
				}
				got = append(got, problem{fe.Field, line})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems = %v, want %v\nerror:\n%v", got, tt.want, err)
			}
		})
	}
}

// TestParseBadHashMessage pins the wording an operator sees.
func TestParseBadHashMessage(t *testing.T) {
	_, err := Parse([]byte("users:\n  - username: a\n    password_hash: md5:abc\n"))
	fes := config.FieldErrors(err)
	if len(fes) != 1 {
		t.Fatalf("got %d problems, want 1: %v", len(fes), err)
	}
	fe := fes[0]
	if fe.Field != "users[0].password_hash" || fe.Problem != "line 3: not an argon2id or bcrypt hash" ||
		fe.Fix != `generate one with "gateway hash-password"` || !errors.Is(fe, ErrInvalidHash) {
		t.Errorf("problem = %#v", fe)
	}
}

func TestParseNotYAML(t *testing.T) {
	tests := []struct{ name, in string }{
		{"syntax error", "users: [\n"},
		{"tab indentation", "users:\n\t- username: a\n"},
		{"two documents", "users: []\n---\nusers: []\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := Parse([]byte(tt.in))
			if err == nil || users != nil {
				t.Fatalf("Parse = %v, %v; want an error", users, err)
			}
			if fes := config.FieldErrors(err); len(fes) != 0 {
				t.Errorf("got field errors %v, want one plain error", fes)
			}
		})
	}
}
