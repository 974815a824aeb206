// Cross-origin form POST (classic CSRF): a page on a foreign origin of the
// same site auto-submits a form to the gateway while the browser holds a
// valid session cookie. SameSite=Lax does not stop it (same site), so the
// gateway's CSRF protection must.
import { scenario, cookies, formLogin } from './lib.mjs';

await scenario(async ({ context, page, cfg }) => {
  const { evil, gateway, target, user, password } = cfg;
  const out = {};

  // The user signed in through the gateway's login page (no CORS needed,
  // so this scenario does not depend on the CORS support it is not about).
  out.login = await formLogin(page, gateway, user, password);
  out.cookies = await cookies(context, gateway);

  // The evil page submits its form on load; wait for the navigation it causes.
  const posted = page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST');
  await page.goto(`${evil}/form?action=${encodeURIComponent(target)}`);
  const res = await posted;
  out.form = {
    status: res.status(),
    body: await res.text(),
    // Proof that the attack was armed: the browser did attach the cookie.
    sentCookie: /gatehouse=/.test((await res.request().allHeaders()).cookie ?? ''),
  };
  return out;
});
