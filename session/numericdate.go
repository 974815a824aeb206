package session

import "errors"

// errNotNumericDate is reported as ErrMalformedToken by Verify: exp, nbf
// and iat must be JSON numbers (RFC 7519 section 2), not numeric strings.
var errNotNumericDate = errors.New("not a JSON number (RFC 7519 NumericDate)")
