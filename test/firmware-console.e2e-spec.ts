import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { OtaDevice } from '../scripts/simulator/ota.js';
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
import { campaignWhen, newImage, newModel, newSigningKey, registerFleet, uploadImage } from './factories/firmware.js';
import { newPhone, signIn } from './factories/users.js';

// The console's firmware campaigns page, in Debian's Chromium against the real apps: each
// campaign's jobs by state as a chart, and pause, resume and cancel.

const describeInBrowser = describeIfBrowser('firmware-console.e2e-spec');

describeInBrowser('firmware campaigns in the service console', () => {
  let backend: TestBackend;
  let chrome: ConsoleBrowser;
  let admin: string;
  const devices: OtaDevice[] = [];
  const adminPhone = newPhone();
  const maker = newSigningKey('maker-2025');
  let steady: { id: string; model: string };
  let failing: { id: string; model: string };

  async function campaignOver(count: number, behaviour: 'corrupt' | null): Promise<{ id: string; model: string }> {
    const model = newModel('PX');
    const fleet = await registerFleet(backend, admin, count, { model, firmware: '1.0.0' });
    const image = await uploadImage(backend, admin, { model, version: '1.1.0', image: newImage(4096), key: maker });
    const created = await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns`, {
      token: admin,
      body: { firmwareId: image.body.id, steps: [50, 100] },
    });
    if (behaviour) {
      for (const device of fleet) {
        devices.push(
          await OtaDevice.start({
            url: backend.mqttUrl,
            sn: device.sn,
            secret: device.deviceSecret,
            firmware: '1.0.0',
            behaviour,
            trustedKeys: [{ id: maker.id, publicKey: maker.publicKey }],
          }),
        );
      }
    }
    return { id: created.body.id, model };
  }

  beforeAll(async () => {
    backend = await startTestBackend({
      auth: { adminPhones: [adminPhone] },
      firmware: { signingKeys: [{ id: maker.id, publicKey: maker.publicKey }], sweepIntervalMs: 200 },
    });
    chrome = await launchConsoleBrowser();
    admin = (await signIn(backend, adminPhone)).accessToken;
    // One campaign whose devices are offline (jobs sent, nobody answering), one whose first step fails.
    steady = await campaignOver(4, null);
    failing = await campaignOver(4, 'corrupt');
    await campaignWhen(backend, admin, failing.id, (campaign) => campaign.status === 'paused');
  });

  afterAll(async () => {
    await Promise.all(devices.map((device) => device.stop()));
    await chrome?.close();
    await backend?.stop();
  });

  it('shows each campaign with its jobs by state as a chart, and why one paused', async () => {
    const { page } = await chrome.open(DESKTOP);
    await signInThroughConsole(page, backend, adminPhone);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Firmware' }).click();
    await page.getByRole('heading', { name: 'Firmware campaigns' }).waitFor();

    const steadyCard = page.locator(`[data-campaign="${steady.id}"]`);
    await steadyCard.getByRole('heading', { name: `${steady.model} → 1.1.0` }).waitFor();
    expect(await steadyCard.locator('.badge').textContent()).toContain('running');
    expect(await steadyCard.getByRole('img').getAttribute('aria-label')).toBe(
      'Jobs by state: Pending 2, Notified 2, Downloading 0, Installing 0, Succeeded 0, Failed 0, Timed out 0',
    );
    expect(await steadyCard.textContent()).toContain('Step 1 of 2 (50%, 100%) · 4 devices targeted');

    const failingCard = page.locator(`[data-campaign="${failing.id}"]`);
    expect(await failingCard.locator('.badge').textContent()).toContain('paused');
    expect(await failingCard.getByRole('note').textContent()).toContain('Paused by itself: failures in step 1 went above 20%');
    expect(await failingCard.getByRole('img').getAttribute('aria-label')).toContain('Failed 2');
    await chrome.shoot(page, 'campaigns-desktop');
  });

  it('pauses, resumes and cancels a campaign, cancel only once confirmed', async () => {
    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, adminPhone, '/console/campaigns');
    const card = page.locator(`[data-campaign="${steady.id}"]`);
    await card.getByRole('button', { name: 'Pause' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${steady.model} → 1.1.0 paused.` })
      .waitFor();
    await card.getByText('Paused by an admin').waitFor();
    expect(await overflowsSideways(page)).toBe(false);
    await chrome.shoot(page, 'campaigns-phone');

    await card.getByRole('button', { name: 'Resume' }).click();
    await card.getByRole('button', { name: 'Pause' }).waitFor();
    expect((await call('GET', `${backend.provisioningUrl}/v1/admin/campaigns/${steady.id}`, { token: admin })).body.status).toBe('running');

    await card.getByRole('button', { name: 'Cancel campaign' }).click();
    await card.getByRole('button', { name: 'Keep it' }).click();
    expect((await call('GET', `${backend.provisioningUrl}/v1/admin/campaigns/${steady.id}`, { token: admin })).body.status).toBe('running');
    await card.getByRole('button', { name: 'Cancel campaign' }).click();
    await card.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.getByRole('status').filter({ hasText: 'cancelled.' }).waitFor();
    expect(await card.locator('.badge').textContent()).toContain('cancelled');
    expect(await card.getByRole('img').getAttribute('aria-label')).toContain('Withdrawn 4');
    expect(await card.getByRole('button').count()).toBe(0);
  });
});
