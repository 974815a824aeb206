// Package userfile is the built-in users file behind the login page: a YAML
// list of users with argon2id (or bcrypt) password hashes, roles and extra
// claims.
//
//	users:
//	  - username: alice
//	    password_hash: "$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>"
//	    email: alice@example.com
//	    roles: [admin, user]
//	    claims: {department: research, email_verified: true}
//	    disabled: false
//
// Parse validates a whole file at once and returns every problem, each a
// *config.FieldError naming the entry and key ("users[2].password_hash").
// File adds reloading: a snapshot is swapped in atomically, and a file that
// fails to parse leaves the previous snapshot in place.
//
// Usernames are matched after Normalize (trimmed, case-folded), so one
// person cannot hold two records that differ only in case or spacing.
//
// Authenticate is the one place a password is checked. It MUST NOT reveal
// whether a username exists: an unknown user costs the same argon2id
// verification as a known one, and ErrDisabled is returned only to a caller
// who knew the password. A server checks logins through a Verifier, which
// bounds how many of those 64 MiB verifications run at once.
//
// HashPassword produces the hashes the file holds (the "gateway
// hash-password" command reads the password with HashPasswordFrom).
package userfile
