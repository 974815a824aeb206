// A page on an origin that is not in cors.allowed_origins cannot read the
// gateway's answers, even while the browser holds a valid session cookie.
import { scenario, call, cookies, formLogin } from './lib.mjs';

await scenario(async ({ context, page, cfg }) => {
  const { evil, gateway, user, password } = cfg;
  const creds = { credentials: 'include' };
  const out = {};

  // The user signed in through the gateway's login page (no CORS needed,
  // so this scenario does not depend on the CORS support it is not about).
  out.login = await formLogin(page, gateway, user, password);
  out.cookies = await cookies(context, gateway);

  await page.goto(evil);
  out.session = await call(page, `${gateway}/.auth/session`, creds);
  out.app = await call(page, `${gateway}/app`, creds);
  return out;
});
