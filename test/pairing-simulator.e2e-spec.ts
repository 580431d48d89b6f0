import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseLabels, parseTokens, simulate, type SimulationEvent } from '../scripts/device-simulator.js';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { eventually, registerDevices } from './factories/devices.js';
import { pairingStatus, startedPairing } from './factories/pairing.js';
import { signIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900000503';

/** The device simulator (npm run device:sim) pairs appliances read from a labels file, as the README walkthrough does. */
describe('device simulator', () => {
  let backend: TestBackend;
  let adminToken: string;

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] }, mqtt: { presenceFlushMs: 200 } });
    adminToken = (await signIn(backend, ADMIN_PHONE)).accessToken;
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('plays many appliances from a labels file: connects, confirms each token, publishes status; all end up bound', async () => {
    const owner = await signIn(backend);
    const registered = await registerDevices(backend, adminToken, 20);
    const labels = [
      'sn,mac,model,deviceSecret,qr',
      ...registered.map((device) => `${device.sn},AA:BB:CC:DD:EE:FF,PURIFIER-X1,${device.deviceSecret},${device.qr}`),
    ].join('\n');
    const pairings = await Promise.all(registered.map((device) => startedPairing(backend, owner, { qr: device.qr })));
    const tokens = parseTokens(['sn,token', ...pairings.map((pairing) => `${pairing.sn},${pairing.token}`)].join('\n'));
    const devices = parseLabels(labels).map((device) => ({ ...device, token: tokens.get(device.sn) }));
    const progress: number[] = [];

    const run = await simulate(
      { url: backend.mqttUrl, devices, status: true, firmware: '1.2.3', concurrency: 5 },
      { onProgress: (state) => progress.push(state.done) },
    );

    expect(run.progress).toMatchObject({ total: 20, connected: 20, refused: 0, paired: 20, done: 20 });
    expect(progress.at(-1)).toBe(20);
    const results = run.events.filter((event): event is Extract<SimulationEvent, { event: 'pairing' }> => event.event === 'pairing');
    expect(results.map((result) => result.status)).toEqual(Array(20).fill('bound'));
    for (const pairing of pairings) expect(await pairingStatus(backend, owner, pairing.pairingId)).toBe('bound');
    const listed = await eventually(async () => {
      const answer = await call('GET', `${backend.provisioningUrl}/v1/devices`, { token: owner.accessToken });
      return answer.body.length === 20 && answer.body.every((device: { lastSeenAt: string | null }) => device.lastSeenAt)
        ? answer.body
        : undefined;
    });
    expect(listed).toHaveLength(20);
  });

  it('reports a refused connection and a wrong token instead of hiding them', async () => {
    const [device] = await registerDevices(backend, adminToken);
    const run = await simulate({
      url: backend.mqttUrl,
      devices: [
        { sn: device.sn, secret: 'not-the-secret' },
        { sn: device.sn, secret: device.deviceSecret, token: 'a-token-nobody-issued' },
      ],
      concurrency: 1,
    });
    expect(run.events).toEqual([
      { sn: device.sn, event: 'refused', reason: expect.any(String) },
      { sn: device.sn, event: 'connected' },
      { sn: device.sn, event: 'pairing', pairingId: 'none', status: 'rejected' },
    ]);
  });

  it('a factory reset from the simulator releases the device', async () => {
    const owner = await signIn(backend);
    const [device] = await registerDevices(backend, adminToken);
    const pairing = await startedPairing(backend, owner, { qr: device.qr });
    await simulate({ url: backend.mqttUrl, devices: [{ sn: device.sn, secret: device.deviceSecret, token: pairing.token }] });
    expect(await pairingStatus(backend, owner, pairing.pairingId)).toBe('bound');
    await simulate({ url: backend.mqttUrl, devices: [{ sn: device.sn, secret: device.deviceSecret }], reset: true });
    await eventually(async () => {
      const answer = await call('GET', `${backend.provisioningUrl}/v1/devices`, { token: owner.accessToken });
      return answer.body.length === 0;
    });
  });
});
