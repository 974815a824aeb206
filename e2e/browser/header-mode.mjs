// Header mode from a single-page app on another origin: the app keeps the
// tokens itself, sends them as a bearer header, and refreshes on
// TOKEN_EXPIRED.
import { scenario, call, json, cookies, sleep } from './lib.mjs';

await scenario(async ({ context, page, cfg }) => {
  const { spa, gateway, user, password, expireMs } = cfg;
  // credentials: 'include' although header mode needs no cookie: had the
  // gateway sent a Set-Cookie, the browser would have stored it, so an
  // empty cookie store at the end means the gateway never set one.
  const headerMode = { credentials: 'include', headers: { 'X-Auth-Mode': 'header' } };
  const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });
  await page.goto(spa);
  const out = {};

  out.login = await call(page, `${gateway}/.auth/login`, json({ username: user, password }, headerMode));
  if (out.login.status !== 200) return out; // nothing below can work
  const first = out.login.json ?? {};
  out.app = await call(page, `${gateway}/app`, bearer(first.access_token), ['X-App-Version']);

  // The gateway runs on the real clock (see cookie-mode.mjs).
  await sleep(expireMs);
  out.appExpired = await call(page, `${gateway}/app`, bearer(first.access_token), ['WWW-Authenticate', 'X-Request-Id']);

  out.refresh = await call(page, `${gateway}/.auth/refresh`, json({ refresh_token: first.refresh_token }, headerMode));
  const next = out.refresh.json ?? {};
  out.appRetried = await call(page, `${gateway}/app`, bearer(next.access_token), ['X-App-Version']);

  out.cookies = await cookies(context, gateway);
  return out;
});
