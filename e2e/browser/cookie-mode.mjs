// Cookie mode from a single-page app on another origin of the same site:
// login, a proxied call, a transparent refresh, logout.
import { scenario, call, json, cookies, sleep } from './lib.mjs';

await scenario(async ({ context, page, cfg }) => {
  const { spa, gateway, user, password, expireMs } = cfg;
  const creds = { credentials: 'include' };
  await page.goto(spa);
  const out = {};

  out.login = await call(page, `${gateway}/.auth/login`, json({ username: user, password }, creds));
  if (out.login.status !== 200) return out; // nothing below can work
  out.cookiesAfterLogin = await cookies(context, gateway);
  out.app = await call(page, `${gateway}/app`, creds, ['X-App-Version']);

  // The gateway is a separate process on the real clock and the browser
  // cannot be given a fake one: the only way to expire the access token is
  // to wait out tokens.access_ttl.
  await sleep(expireMs);
  out.appAfterExpiry = await call(page, `${gateway}/app`, creds, ['X-App-Version']);
  out.cookiesAfterExpiry = await cookies(context, gateway);

  out.logout = await call(page, `${gateway}/.auth/logout`, { method: 'POST', ...creds });
  out.cookiesAfterLogout = await cookies(context, gateway);
  out.appAfterLogout = await call(page, `${gateway}/app`, creds, ['WWW-Authenticate']);
  return out;
});
