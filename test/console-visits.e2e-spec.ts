import { randomUUID } from 'node:crypto';
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
import { setConsent } from './factories/consents.js';
import { connectDevice, eventually, nextMessage, registerDevices, type RegisteredDevice } from './factories/devices.js';
import { newPhone, signIn, type SignedIn } from './factories/users.js';

// The repair visit in the service console, end to end: an owner's appliance reports a
// fault, the owner opens a ticket, a dispatcher assigns it in the console, the technician
// reads it in the console (diagnostics yes, contact no), completes it and loses access.

// Both reports carry this device time, so the chart's day is known.
const occurredAt = new Date().toISOString();
const describeInBrowser = describeIfBrowser('console-visits.e2e-spec');

describeInBrowser('repair visit in the service console', () => {
  let backend: TestBackend;
  let chrome: ConsoleBrowser;
  let admin: SignedIn;
  let owner: SignedIn;
  let device: RegisteredDevice;
  let appliance: MqttClient;
  let repairId: string;
  const adminPhone = newPhone();
  const technician = { phone: newPhone(), name: 'Zhang Min', id: '', token: '' };
  const otherTechnician = { phone: newPhone(), name: 'Wang Fang', id: '', token: '' };
  const description = 'Purifier shows E21 and stops after a minute';

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [adminPhone] } });
    chrome = await launchConsoleBrowser();
    admin = await signIn(backend, adminPhone);
    owner = await signIn(backend);
    // Diagnostics allowed, contact details not shared.
    await setConsent(backend, owner, 'fault_diagnostics', true);
    [device] = await registerDevices(backend, admin.accessToken);
    appliance = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
    await pair(backend, owner, device, appliance);
    await reportFault(appliance, device.sn, { code: 'E21', severity: 'critical', diagnostics: { rssi: -71, wifiName: 'HomeNet-5G' } });
    const ticket = await call('POST', `${backend.faultsUrl}/v1/repairs`, {
      token: owner.accessToken,
      body: { sn: device.sn, description },
    });
    expect(ticket.status).toBe(201);
    repairId = ticket.body.id;
    for (const person of [technician, otherTechnician]) {
      const created = await call('POST', `${backend.faultsUrl}/v1/admin/technicians`, {
        token: admin.accessToken,
        body: { phone: person.phone, name: person.name },
      });
      expect(created.status).toBe(201);
      person.id = created.body.id;
    }
    // The technician's own token, to check through the API what the console shows.
    technician.token = (await signIn(backend, technician.phone)).accessToken;
  });

  afterAll(async () => {
    appliance?.end(true);
    await chrome?.close();
    await backend?.stop();
  });

  it('lets the dispatcher assign the open ticket to a technician', async () => {
    const { page } = await chrome.open(DESKTOP);
    await signInThroughConsole(page, backend, adminPhone, '/console/tickets');
    const ticket = page.locator(`[data-ticket="${repairId}"]`);
    await ticket.waitFor();
    expect(await ticket.textContent()).toContain(description);
    await chrome.shoot(page, 'tickets-desktop');

    await ticket.getByLabel('Technician').selectOption({ label: `${technician.name} · ${technician.phone}` });
    await ticket.getByRole('button', { name: 'Assign' }).click();
    await page.getByRole('status').filter({ hasText: 'Ticket assigned' }).waitFor();

    const visits = await call('GET', `${backend.faultsUrl}/v1/tech/visits`, { token: technician.token });
    expect(visits.body.map((visit: { id: string }) => visit.id)).toContain(repairId);
  });

  it('shows the technician the visit with diagnostics but no contact without consent', async () => {
    const accessLogBefore = await accessLog(backend, owner);
    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, technician.phone);
    const link = page.getByRole('link', { name: new RegExp(device.sn) });
    await link.waitFor();
    await chrome.shoot(page, 'visits-phone');
    await link.click();

    await page.getByRole('heading', { name: /^Visit:/ }).waitFor();
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(device.sn);
    expect(text).toContain('PURIFIER-X1');
    expect(text).toContain('E21');
    expect(text).toMatch(/critical/i);
    expect(text).toContain('HomeNet-5G');
    expect(text).toContain('-71');
    expect(text).toContain('The owner has not shared contact details');
    expect(text).not.toContain(owner.phone);
    expect(await overflowsSideways(page)).toBe(false);
    await chrome.shoot(page, 'visit-phone');

    const desktop = await chrome.open(DESKTOP);
    await signInThroughConsole(desktop.page, backend, technician.phone, `/console/visits/${repairId}`);
    await desktop.page.getByRole('heading', { name: /^Visit:/ }).waitFor();
    await chrome.shoot(desktop.page, 'visit-desktop');

    // Every read by staff is in the owner's access log.
    expect((await accessLog(backend, owner)).length).toBeGreaterThan(accessLogBefore.length);
  });

  it('tells another technician who types the visit URL that it is not theirs, and logs nothing for it', async () => {
    const before = await accessLog(backend, owner);
    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, otherTechnician.phone, `/console/visits/${repairId}`);
    await page.getByRole('heading', { name: 'Not yours' }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain(device.sn);
    await chrome.shoot(page, 'not-yours-phone');
    expect(await accessLog(backend, owner)).toEqual(before);
  });

  it('completes the visit with notes, after which the technician has no access', async () => {
    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, technician.phone, `/console/visits/${repairId}`);
    await page.getByRole('button', { name: 'Complete visit' }).click();
    expect(await page.getByRole('alert').first().textContent()).toMatch(/Write what was done/);
    await page.getByLabel('Notes').fill('Replaced the inlet valve; E21 cleared.');
    await page.getByRole('button', { name: 'Complete visit' }).click();
    await page.getByRole('heading', { name: 'Visit completed' }).waitFor();

    await page.reload();
    await page.getByRole('heading', { name: 'Not yours' }).waitFor();
    const api = await call('GET', `${backend.faultsUrl}/v1/tech/visits/${repairId}`, { token: technician.token });
    expect(api.status).toBe(403);

    await page.getByRole('link', { name: 'Back to my open visits' }).click();
    await page.getByText('No open visits are assigned to you.').waitFor();
  });

  it("shows the owner's name and phone when repair_contact is granted", async () => {
    const sharing = await signIn(backend);
    await setConsent(backend, sharing, 'fault_diagnostics', true);
    await setConsent(backend, sharing, 'repair_contact', true);
    const named = await call('PATCH', `${backend.provisioningUrl}/v1/me`, { token: sharing.accessToken, body: { name: 'Chen Jing' } });
    expect(named.status).toBe(200);
    const [second] = await registerDevices(backend, admin.accessToken);
    const secondAppliance = await connectDevice(backend.mqttUrl, second.sn, second.deviceSecret);
    try {
      await pair(backend, sharing, second, secondAppliance);
      await reportFault(secondAppliance, second.sn, { code: 'E07', severity: 'warning', diagnostics: { rssi: -55 } });
    } finally {
      secondAppliance.end(true);
    }
    const ticket = await call('POST', `${backend.faultsUrl}/v1/repairs`, {
      token: sharing.accessToken,
      body: { sn: second.sn, description: 'Leaks at night' },
    });
    expect(ticket.status).toBe(201);
    const assigned = await call('POST', `${backend.faultsUrl}/v1/admin/repairs/${ticket.body.id}/assign`, {
      token: admin.accessToken,
      body: { technicianId: otherTechnician.id },
    });
    expect(assigned.status).toBeLessThan(300);

    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, otherTechnician.phone, `/console/visits/${ticket.body.id}`);
    const contact = page.getByRole('definition').filter({ hasText: sharing.phone });
    await contact.waitFor();
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('Chen Jing');
    expect(text).not.toContain('has not shared contact details');
    await chrome.shoot(page, 'visit-with-contact-phone');
  });

  it('shows the dispatcher fault statistics by model, code and day as a chart', async () => {
    const { page } = await chrome.open(DESKTOP);
    await signInThroughConsole(page, backend, adminPhone, '/console/stats');
    const byModel = page.locator('svg[data-chart="by-model"]');
    await byModel.waitFor();
    // Two reports in this database: E21 and E07, both from a PURIFIER-X1, both today (UTC).
    expect(await byModel.getAttribute('aria-label')).toBe('By model: PURIFIER-X1 2');
    expect(await page.locator('svg[data-chart="by-code"]').getAttribute('aria-label')).toMatch(/^By code: (E21 1, E07 1|E07 1, E21 1)$/);
    expect(await page.locator('svg[data-chart="by-day"]').getAttribute('aria-label')).toBe(`By day: ${occurredAt.slice(0, 10)} 2`);
    await chrome.shoot(page, 'stats-desktop');

    const phone = await chrome.open(PHONE);
    await signInThroughConsole(phone.page, backend, adminPhone, '/console/stats');
    await phone.page.locator('svg[data-chart="by-model"]').waitFor();
    expect(await overflowsSideways(phone.page)).toBe(false);
    await chrome.shoot(phone.page, 'stats-phone');
  });

  it("shows the technician the appliance's reported state during the visit", async () => {
    const heaterOwner = await signIn(backend);
    const [heater] = await registerDevices(backend, admin.accessToken, 1, { model: 'HT1' });
    const heaterClient = await connectDevice(backend.mqttUrl, heater.sn, heater.deviceSecret);
    try {
      await pair(backend, heaterOwner, heater, heaterClient);
      await heaterClient.publishAsync(`devices/${heater.sn}/state/reported`, JSON.stringify({ values: { power: true, target_temp: 62 } }), {
        qos: 1,
      });
      await eventually(async () => {
        const state = await call('GET', `${backend.provisioningUrl}/v1/devices/${heater.sn}/state`, { token: heaterOwner.accessToken });
        return state.body?.reported?.target_temp ? true : undefined;
      });
    } finally {
      heaterClient.end(true);
    }
    const ticket = await call('POST', `${backend.faultsUrl}/v1/repairs`, {
      token: heaterOwner.accessToken,
      body: { sn: heater.sn, description: 'Too hot' },
    });
    await call('POST', `${backend.faultsUrl}/v1/admin/repairs/${ticket.body.id}/assign`, {
      token: admin.accessToken,
      body: { technicianId: technician.id },
    });

    const { page } = await chrome.open(PHONE);
    await signInThroughConsole(page, backend, technician.phone, `/console/visits/${ticket.body.id}`);
    await page.getByRole('heading', { name: 'Current state' }).waitFor();
    expect(await page.getByTestId('reported-target_temp').textContent()).toBe('62');
    expect(await page.getByTestId('reported-power').textContent()).toBe('on');
    expect(await overflowsSideways(page)).toBe(false);
    await chrome.shoot(page, 'visit-state-phone');
    const log = (await call('GET', `${backend.provisioningUrl}/v1/me/access-log`, { token: heaterOwner.accessToken })).body as Array<{
      what: string;
    }>;
    expect(log.map((entry) => entry.what)).toContain(`repair ${ticket.body.id}: the device's reported state`);
  });
});

/** Pairs as the companion app and the appliance do: the app asks, the appliance confirms with the token. */
async function pair(backend: TestBackend, owner: SignedIn, device: RegisteredDevice, appliance: MqttClient): Promise<void> {
  const started = await call('POST', `${backend.provisioningUrl}/v1/pairings`, { token: owner.accessToken, body: { sn: device.sn } });
  if (started.status !== 201) throw new Error(`pairing failed: ${started.status} ${JSON.stringify(started.body)}`);
  await appliance.publishAsync(`devices/${device.sn}/pairing/confirm`, JSON.stringify({ token: started.body.token }), { qos: 1 });
  await eventually(async () => {
    const status = await call('GET', `${backend.provisioningUrl}/v1/pairings/${started.body.pairingId}`, { token: owner.accessToken });
    return status.body?.status === 'bound';
  });
}

async function reportFault(
  appliance: MqttClient,
  sn: string,
  fault: { code: string; severity: string; diagnostics: Record<string, unknown> },
): Promise<void> {
  const reportId = randomUUID();
  await appliance.subscribeAsync(`devices/${sn}/faults/ack`, { qos: 1 });
  const ack = nextMessage(
    appliance,
    (topic, payload) => topic.endsWith('/faults/ack') && JSON.parse(payload.toString()).reportId === reportId,
  );
  await appliance.publishAsync(`devices/${sn}/faults`, JSON.stringify({ reportId, occurredAt, firmware: '1.0.0', ...fault }), { qos: 1 });
  const answer = JSON.parse((await ack).payload.toString()) as { stored: string };
  if (answer.stored !== 'full') throw new Error(`fault stored as ${answer.stored}, expected full`);
}

async function accessLog(backend: TestBackend, owner: SignedIn): Promise<unknown[]> {
  const log = await call('GET', `${backend.provisioningUrl}/v1/me/access-log`, { token: owner.accessToken });
  expect(log.status).toBe(200);
  return log.body as unknown[];
}
