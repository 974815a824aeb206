// The Node.js example of docs/assertion.md, run by e2e/assertion_test.go:
// node verify.mjs <jwks-url> <issuer> <audience> <assertion>
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksURL, issuer, audience, assertion] = process.argv.slice(2);

// Once per process: the key set is cached and refetched on an unknown kid.
const JWKS = createRemoteJWKSet(new URL(jwksURL));

// Per request (the value of the X-Auth-Assertion header):
const { payload } = await jwtVerify(assertion, JWKS, {
  issuer,
  audience,
  typ: 'gatehouse-assertion+jwt',
  algorithms: ['EdDSA', 'ES256', 'RS256'],
});
console.log(JSON.stringify(payload));
