// A real OpenID Provider (panva/oidc-provider, OpenID Certified) for the
// gateway's end-to-end tests (e2e/oidc_test.go). Not a fake: discovery,
// JWKS, the authorization endpoint with its HTML login and consent forms
// (the library's devInteractions), PKCE, the token endpoint with client
// authentication, and userinfo are the library's own.
//
// Usage: node provider.mjs '<json config>'
//   port        listen on 127.0.0.1:port (0: any free port)
//   clients     [{client_id, client_secret, redirect_uris,
//                 id_token_override: {claim: value}, id_token_expired: true,
//                 id_token_omit: [claim...]}]
//               id_token_override and id_token_expired make a deliberately
//               faulty issuer: the ID token is re-signed with the
//               provider's own key after the claims are changed (aud, nonce)
//               or exp is put in the past, so the only defect is the one
//               under test. id_token_omit leaves claims out of the ID token
//               (they stay available from userinfo), as many providers do.
//               refresh: true also allows the refresh_token grant; refresh
//               tokens are then issued and rotated at every use.
//               post_logout_redirect_uris registers where RP-initiated
//               logout (the library's end_session_endpoint, with its HTML
//               "sign out?" confirm form) may send the browser back.
//               backchannel_logout_uri registers where the provider POSTs a
//               logout token (Back-Channel Logout, with sid) when the
//               user's session at the provider ends.
//   accounts    {login: {claims...}}: the claims of each login name (any
//               password is accepted, as in devInteractions). The test
//               changes them at run time: PUT /__e2e/accounts/<login> with
//               the new claims as JSON, DELETE /__e2e/accounts/<login> to
//               remove the user (its refresh tokens then fail with
//               invalid_grant).
//   id_token_ttl  seconds (default 3600)
//
// When ready it prints one JSON line: {"issuer": "http://127.0.0.1:PORT"}.

import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { createServer } from 'node:http';
import { CompactSign, decodeJwt, decodeProtectedHeader, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const cfg = JSON.parse(process.argv[2] ?? '{}');

// The signing key is ours, so the faulty modes can re-sign with it.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...(await exportJWK(privateKey)), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(cfg.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const accounts = cfg.accounts ?? {};
const faulty = new Map(
  (cfg.clients ?? []).map((c) => [c.client_id, { override: c.id_token_override, expired: c.id_token_expired, omit: c.id_token_omit }]),
);

const provider = new Provider(issuer, {
  clients: (cfg.clients ?? []).map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    ...(c.backchannel_logout_uri ? { backchannel_logout_uri: c.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    grant_types: c.refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [jwk] },
  cookies: { keys: ['e2e-cookie-key-not-secret'] },
  pkce: { required: () => true }, // every client, confidential or not
  features: { devInteractions: { enabled: true }, backchannelLogout: { enabled: true } },
  conformIdTokenClaims: false, // scope claims in the ID token itself
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups', 'realm_access'],
  },
  ttl: { IdToken: cfg.id_token_ttl ?? 3600 },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // The library refuses outgoing requests (back-channel logout) to
  // special-use addresses such as loopback, as SSRF protection; in these
  // tests the gateway listens on 127.0.0.1, so that guard is dropped here.
  fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

// Faulty modes: rewrite the ID token of the token endpoint's answer.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token) return;
  const f = faulty.get(ctx.oidc?.client?.clientId);
  if (!f || (!f.override && !f.expired && !f.omit)) return;
  const payload = { ...decodeJwt(ctx.body.id_token), ...(f.override ?? {}) };
  for (const claim of f.omit ?? []) delete payload[claim];
  if (f.expired) {
    const now = Math.floor(Date.now() / 1000);
    Object.assign(payload, { iat: now - 600, exp: now - 300 });
  }
  ctx.body = {
    ...ctx.body,
    id_token: await new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader(decodeProtectedHeader(ctx.body.id_token))
      .sign(createPrivateKey({ key: jwk, format: 'jwk' })),
  };
});

// Back-channel logout failures would otherwise pass silently.
provider.on('backchannel.error', (ctx, err, client) => {
  process.stderr.write(`backchannel logout to ${client.clientId} failed: ${err.message}\n`);
});

const oidc = provider.callback();
server.on('request', (req, res) => {
  const m = req.url.match(/^\/__e2e\/accounts\/([^/?]+)$/);
  if (!m) return oidc(req, res);
  const id = decodeURIComponent(m[1]);
  if (req.method === 'DELETE') {
    delete accounts[id];
    res.writeHead(204).end();
    return;
  }
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    accounts[id] = JSON.parse(body);
    res.writeHead(204).end();
  });
});
process.stdout.write(JSON.stringify({ issuer }) + '\n');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
