import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
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
import { connectedAppliance, historyReaches, publishReadings, type Appliance } from './factories/telemetry.js';
import { newPhone, signIn, type SignedIn } from './factories/users.js';

// Telemetry in the service console: the dispatcher's chart of a model's statistics, and a technician's
// view of the appliance's last 24 hours during an open visit (which lands in the owner's access log).

const describeInBrowser = describeIfBrowser('console-telemetry.e2e-spec');
const HOUR = 3600_000;

describeInBrowser('telemetry in the service console', () => {
  let backend: TestBackend;
  let chrome: ConsoleBrowser;
  let admin: SignedIn;
  const adminPhone = newPhone();
  const heaters: Appliance[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [adminPhone] } });
    chrome = await launchConsoleBrowser();
    admin = await signIn(backend, adminPhone);
    // Six heaters whose owners allow product improvement, reporting water temperature every 20 minutes for 12 hours.
    const now = Date.now();
    for (let index = 0; index < 6; index += 1) {
      const heater = await connectedAppliance(backend, admin.accessToken, { model: 'HT1', consents: ['product_improvement'] });
      heaters.push(heater);
      clients.push(heater.client);
      const readings = Array.from({ length: 36 }, (_, step) => ({
        point: 'water_temp',
        at: new Date(now - 12 * HOUR + step * 20 * 60_000).toISOString(),
        value: Math.round((45 + 10 * Math.sin(step / 5) + index) * 10) / 10,
      }));
      await publishReadings(heater.client, heater.sn, readings);
      await historyReaches(backend, heater.owner, heater.sn, 'water_temp', 36, `&from=${new Date(now - 13 * HOUR).toISOString()}`);
    }
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
    await chrome?.close();
    await backend?.stop();
  });

  it('draws a model’s statistics for the dispatcher, with the numbers as a table', async () => {
    const { page } = await chrome.open(DESKTOP);
    await signInThroughConsole(page, backend, adminPhone, '/console/appliance-stats');
    await page.getByRole('heading', { name: 'Appliance statistics' }).waitFor();
    await page.getByRole('textbox', { name: 'Model' }).fill('HT1');
    await page.getByRole('button', { name: 'Load points' }).click();
    await page.getByRole('combobox', { name: 'Reading' }).selectOption('water_temp');
    await page.getByRole('combobox', { name: 'Period' }).selectOption('24h');
    await page.getByRole('button', { name: 'Show' }).click();
    const chart = page.locator('svg[data-chart="appliance-statistics"]');
    await chart.waitFor();
    expect(await chart.getAttribute('aria-label')).toMatch(/^HT1 · water_temp, average per hour/);
    await page.getByText('Show as a table').click();
    const rows = page.locator('.line-chart tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(12);
    // A whole hour: three readings from each of the six heaters.
    expect(await rows.nth(2).textContent()).toContain('6 appliances, 18 readings');
    expect(await page.locator('main').textContent()).not.toContain(heaters[0].sn);
    await chrome.shoot(page, 'appliance-stats-desktop');

    // A model nobody reports: said in words.
    await page.getByRole('textbox', { name: 'Model' }).fill('PX1');
    await page.getByRole('button', { name: 'Load points' }).click();
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByTestId('no-statistics').waitFor();
  });

  it('shows a technician the last 24 hours of the visit’s appliance, and the owner sees the read in the access log', async () => {
    const [heater] = heaters;
    const technician = { phone: newPhone(), name: 'Zhao Lei' };
    const created = await call('POST', `${backend.faultsUrl}/v1/admin/technicians`, { token: admin.accessToken, body: technician });
    expect(created.status).toBe(201);
    const ticket = await call('POST', `${backend.faultsUrl}/v1/repairs`, {
      token: heater.owner.accessToken,
      body: { sn: heater.sn, description: 'Water never gets hot' },
    });
    await call('POST', `${backend.faultsUrl}/v1/admin/repairs/${ticket.body.id}/assign`, {
      token: admin.accessToken,
      body: { technicianId: created.body.id },
    });

    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, technician.phone, `/console/visits/${ticket.body.id}`);
    await page.getByRole('heading', { name: 'Readings, last 24 hours' }).waitFor();
    const chart = page.locator('svg[data-chart="reading-water_temp"]');
    await chart.waitFor();
    expect(await chart.getAttribute('aria-label')).toMatch(/^water_temp: 36 points/);
    expect(await overflowsSideways(page)).toBe(false);
    await chrome.shoot(page, 'visit-readings-phone');

    const log = (await call('GET', `${backend.provisioningUrl}/v1/me/access-log`, { token: heater.owner.accessToken })).body as Array<{
      what: string;
    }>;
    expect(log.map((entry) => entry.what)).toContain(`repair ${ticket.body.id}: the appliance's readings of the last 24 hours (36)`);
  });
});
