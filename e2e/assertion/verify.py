# The Python example of docs/assertion.md, run by e2e/assertion_test.go:
# python3 verify.py <jwks-url> <issuer> <audience> <assertion>
import json
import sys

import jwt  # PyJWT >= 2.6 with cryptography

jwks_url, issuer, audience, assertion = sys.argv[1:5]

# Once per process: PyJWKClient caches the key set.
jwks = jwt.PyJWKClient(jwks_url)

# Per request (the value of the X-Auth-Assertion header):
if jwt.get_unverified_header(assertion).get("typ") != "gatehouse-assertion+jwt":
    raise SystemExit("not a Gatehouse assertion")
key = jwks.get_signing_key_from_jwt(assertion)
claims = jwt.decode(assertion, key.key, algorithms=["EdDSA", "ES256", "RS256"],
                    audience=audience, issuer=issuer,
                    options={"require": ["exp", "iat", "sub"]})
print(json.dumps(claims))
