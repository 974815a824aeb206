// Shared plumbing for the browser scenarios run by e2e/browser_test.go.
//
// Each scenario is one script: `node <scenario>.mjs '<JSON config>'`. It
// drives a fresh headless Chromium, does everything with fetch() from a
// page the way a real frontend would, and prints exactly one JSON line of
// observations on stdout. The Go test makes the assertions.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The flags verified on this machine (shared/notes/real-clients.md): they
// work as root, and keep Chromium off the network.
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// scenario runs body({ context, page, cfg }) in a fresh browser profile and
// prints what it returns as one JSON line. An exception is reported as
// {"error": ...}, so the Go side always gets a line to show. The browser is
// closed and its profile deleted whatever happens.
export async function scenario(body) {
  const cfg = JSON.parse(process.argv[2] ?? '{}');
  const profile = await mkdtemp(join(tmpdir(), 'gatehouse-chromium-'));
  let context;
  let out;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    out = await body({ context, page, cfg });
  } catch (err) {
    out = { error: String(err?.stack ?? err) };
  } finally {
    await context?.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

// call runs fetch(url, init) inside the page, as the page's own script,
// and returns what that script can see: the status, the named response
// headers (null when CORS hides them), and the body as JSON or text. A
// fetch the browser refuses (a CORS failure) comes back as
// { error: 'TypeError: Failed to fetch' }.
export function call(page, url, init = {}, headers = []) {
  return page.evaluate(async ({ url, init, headers }) => {
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      const out = { status: res.status, headers: {} };
      for (const h of headers) out.headers[h] = res.headers.get(h);
      try { out.json = JSON.parse(text); } catch { out.text = text; }
      return out;
    } catch (err) {
      return { error: `${err.name}: ${err.message}` };
    }
  }, { url, init, headers });
}

// json is the init for a JSON POST.
export function json(body, init = {}) {
  return {
    method: 'POST',
    ...init,
    headers: { 'Content-Type': 'application/json', ...init.headers },
    body: JSON.stringify(body),
  };
}

// formLogin signs in the way a person does: the gateway's own login page
// (same origin, no CORS involved), then its redirect to rd. It returns the
// status of the page the browser lands on.
export async function formLogin(page, gateway, user, password, rd = '/.auth/session') {
  await page.goto(`${gateway}/.auth/login?rd=${encodeURIComponent(rd)}`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return { status: res?.status(), url: page.url() };
}

// cookies returns the browser's cookie store for url (what the browser
// will send), not what any response said.
export async function cookies(context, url) {
  return (await context.cookies(url)).map(({ name, value, secure, httpOnly, sameSite }) =>
    ({ name, value, secure, httpOnly, sameSite }));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
