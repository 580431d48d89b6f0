import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { consoleDirectory } from '../apps/fault-feedback/src/console.controller.js';
import { startTestBackend, type TestBackend } from './support/backend.js';
import {
  DESKTOP,
  PHONE,
  describeIfBrowser,
  launchConsoleBrowser,
  overflowsSideways,
  signInThroughConsole,
  type ConsoleBrowser,
} from './support/browser.js';
import { call } from './support/http.js';
import { newPhone, signIn } from './factories/users.js';

// The service console: served by fault-feedback at /console, signing in on provisioning,
// driven here in Debian's Chromium against the real apps on a real PostgreSQL.

let backend: TestBackend;
const adminPhone = newPhone();

beforeAll(async () => {
  if (!existsSync(`${consoleDirectory()}/index.html`)) throw new Error('The console is not built: run `npm run build` first');
  backend = await startTestBackend({ auth: { adminPhones: [adminPhone] } });
});

afterAll(async () => {
  await backend?.stop();
});

describe('console served by fault-feedback', () => {
  it('serves the app at /console, its hashed assets, and deep links as the app itself', async () => {
    const root = await fetch(`${backend.faultsUrl}/console`);
    expect(root.status).toBe(200);
    const html = await root.text();
    expect(html).toContain('<div id="root"></div>');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(assets.length).toBeGreaterThan(0);
    // Everything the page loads is ours: no CDN, no other host.
    for (const asset of assets) expect(asset).toMatch(/^\/console\/assets\//);
    for (const asset of assets) expect((await fetch(`${backend.faultsUrl}${asset}`)).status).toBe(200);

    const deepLink = await fetch(`${backend.faultsUrl}/console/visits/any-id`);
    expect(deepLink.status).toBe(200);
    expect(await deepLink.text()).toBe(html);

    const missing = await call('GET', `${backend.faultsUrl}/console/assets/nope.js`);
    expect(missing.status).toBe(404);
    const escape = await fetch(`${backend.faultsUrl}/console/..%2f..%2fpackage.json`);
    expect(await escape.text()).not.toContain('"dependencies"');
  });

  it('tells the browser where sign-in lives: provisioning on its actual port', async () => {
    const settings = await call('GET', `${backend.faultsUrl}/console/config.json`);
    expect(settings.status).toBe(200);
    expect(settings.body).toEqual({ provisioningUrl: '', provisioningPort: Number(new URL(backend.provisioningUrl).port) });
  });

  it('lets the console origin call provisioning from a browser (CORS), and not a foreign origin', async () => {
    const preflight = (origin: string) =>
      fetch(`${backend.provisioningUrl}/v1/auth/otp`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ours = await preflight(backend.faultsUrl);
    expect(ours.status).toBeLessThan(300);
    expect(ours.headers.get('access-control-allow-origin')).toBe(backend.faultsUrl);
    const foreign = await preflight('http://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});

const describeInBrowser = describeIfBrowser('console.e2e-spec');

describeInBrowser('console in the browser', () => {
  let chrome: ConsoleBrowser;
  const origins = () => [backend.faultsUrl, backend.provisioningUrl].map((url) => new URL(url).origin);

  beforeAll(async () => {
    chrome = await launchConsoleBrowser();
  });

  afterAll(async () => {
    await chrome?.close();
  });

  it('signs an admin in by phone and code, shows the admin pages, and fetches nothing from elsewhere', async () => {
    const { page, requests } = await chrome.open(PHONE);
    await page.goto(`${backend.faultsUrl}/console/`);
    await page.getByRole('heading', { name: 'Service console' }).waitFor();
    expect(await overflowsSideways(page)).toBe(false);
    await chrome.shoot(page, 'sign-in-phone');

    await signInThroughConsole(page, backend, adminPhone);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Open tickets',
      'Technicians',
      'Statistics',
      'Firmware',
      'Appliance statistics',
    ]);
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('admin');
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests) expect(origins()).toContain(new URL(url).origin);
  });

  it('shows a wrong code as an error in words, not a blank page', async () => {
    const { page } = await chrome.open(DESKTOP);
    const phone = newPhone();
    await page.goto(`${backend.faultsUrl}/console/`);
    await page.getByLabel('Phone number').fill('12345');
    await page.getByRole('button', { name: 'Send code' }).click();
    expect(await page.getByRole('alert').first().textContent()).toMatch(/international form/);

    await page.getByLabel('Phone number').fill(phone);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByLabel('Code').waitFor();
    const real = await backend.lastCode(phone);
    await page.getByLabel('Code').fill(real === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('.notice-error');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Could not sign in.+\w{4,}/);
    await chrome.shoot(page, 'sign-in-error-desktop');
  });

  it('lets an admin create a technician, who then signs in and sees only the technician pages', async () => {
    const { page } = await chrome.open(DESKTOP);
    await signInThroughConsole(page, backend, adminPhone, '/console/technicians');
    const technicianPhone = newPhone();
    await page.getByLabel('Name').fill('Li Wei');
    await page.getByLabel('Phone number').fill(technicianPhone);
    await page.getByRole('button', { name: 'Create technician' }).click();
    const created = page.getByRole('status').filter({ hasText: 'can now sign in' });
    await created.waitFor();
    expect(await created.textContent()).toContain(technicianPhone);
    await chrome.shoot(page, 'technicians-desktop');

    const tech = await chrome.open(PHONE);
    await signInThroughConsole(tech.page, backend, technicianPhone);
    const nav = tech.page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['My visits']);
    expect(new URL(tech.page.url()).pathname).toBe('/console/visits');
    expect(await overflowsSideways(tech.page)).toBe(false);

    // Admin pages are not the technician's: the console says so rather than calling the API.
    await tech.page.goto(`${backend.faultsUrl}/console/tickets`);
    await tech.page.getByRole('heading', { name: 'Page not found' }).waitFor();
  });

  it('returns an expired session to sign-in with a notice, never a blank page', async () => {
    const technician = await signIn(backend);
    const { page } = await chrome.open(PHONE);
    await page.goto(`${backend.faultsUrl}/console/sign-in`);
    await page.evaluate((session) => sessionStorage.setItem('service-console.session', JSON.stringify(session)), {
      accessToken: 'expired.token.value',
      refreshToken: 'no-longer-valid',
      user: { id: technician.userId, roles: ['user', 'technician'] },
      phone: technician.phone,
    });
    await page.goto(`${backend.faultsUrl}/console/visits`);
    const notice = page.getByRole('status').filter({ hasText: 'session has expired' });
    await notice.waitFor();
    expect(await page.getByLabel('Phone number').isVisible()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(await page.evaluate(() => sessionStorage.getItem('service-console.session'))).toBeNull();
  });

  it('renews an expired access token with the refresh token, without sending the person back to sign-in', async () => {
    const admin = await signIn(backend, adminPhone);
    const { page } = await chrome.open(DESKTOP);
    await page.goto(`${backend.faultsUrl}/console/sign-in`);
    await page.evaluate((session) => sessionStorage.setItem('service-console.session', JSON.stringify(session)), {
      accessToken: 'expired.token.value',
      refreshToken: admin.refreshToken,
      user: { id: admin.userId, roles: admin.roles },
      phone: admin.phone,
    });
    await page.goto(`${backend.faultsUrl}/console/technicians`);
    await page.getByRole('heading', { name: 'Technicians', exact: true }).waitFor();
    await page.getByRole('table').waitFor();
    const stored = await page.evaluate(
      () => JSON.parse(sessionStorage.getItem('service-console.session') ?? '{}') as { accessToken?: string; refreshToken?: string },
    );
    expect(stored.accessToken).not.toBe('expired.token.value');
    expect(stored.refreshToken).not.toBe(admin.refreshToken);
    // The old refresh token was rotated away, as the contract says.
    expect((await call('POST', `${backend.provisioningUrl}/v1/auth/refresh`, { body: { refreshToken: admin.refreshToken } })).status).toBe(
      401,
    );
  });

  it('tells a signed-in person without a staff role that the console is not for them', async () => {
    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, newPhone());
    await page.getByRole('heading', { name: 'No access' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/technicians and dispatchers/);
  });
});

it('README shows exactly the screenshots the browser suites take', () => {
  const readme = readFileSync('README.md', 'utf8');
  const shown = [...readme.matchAll(/\(docs\/console\/([\w-]+)\.png\)/g)].map((match) => match[1]).sort();
  const taken = ['console.e2e-spec.ts', 'console-visits.e2e-spec.ts', 'firmware-console.e2e-spec.ts', 'console-telemetry.e2e-spec.ts']
    .flatMap((suite) => [...readFileSync(`test/${suite}`, 'utf8').matchAll(/shoot\([^,]+, '([\w-]+)'\)/g)].map((match) => match[1]))
    .sort();
  expect(shown).toEqual(taken);
  for (const name of shown) expect(existsSync(`docs/console/${name}.png`)).toBe(true);
});
