package config

// IsSecure reports whether the cookie carries the Secure attribute. Nil
// Secure (a Config built in code rather than loaded) means the default,
// true.
func (c Cookie) IsSecure() bool { return c.Secure == nil || *c.Secure }
