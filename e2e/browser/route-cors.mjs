// One gateway, two allowlists: the top-level cors block for the SPA, and
// a route rule's own cors block for a partner's frontend calling one API
// path. Each page sends a bearer token (so every call is preflighted) and
// may read only the paths its own allowlist covers.
import { scenario, call } from './lib.mjs';

await scenario(async ({ page, cfg }) => {
  const { spa, partner, gateway, token } = cfg;
  const auth = (method = 'GET') => ({ method, headers: { Authorization: `Bearer ${token}` } });
  const out = {};

  await page.goto(partner);
  out.partnerApi = await call(page, `${gateway}/partner/items`, auth());
  out.partnerApp = await call(page, `${gateway}/app/items`, auth());
  out.partnerDelete = await call(page, `${gateway}/partner/items`, auth('DELETE'));

  await page.goto(spa);
  out.spaApp = await call(page, `${gateway}/app/items`, auth());
  out.spaPartner = await call(page, `${gateway}/partner/items`, auth());
  return out;
});
