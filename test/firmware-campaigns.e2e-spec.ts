import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { topics } from '#libs/mqtt-contract';
import { OtaDevice, type OtaBehaviour } from '../scripts/simulator/ota.js';
import { sql, startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { connectDevice, eventually, nextMessage } from './factories/devices.js';
import { campaignWhen, jobsOf, newImage, newModel, newSigningKey, registerFleet, uploadImage } from './factories/firmware.js';
import { newPhone, signIn } from './factories/users.js';

// Staged campaigns end to end (EN 303 645 provision 5.3): the real apps, simulated appliances that
// download, check, install, restart and report, and the rules that stop a bad rollout.

const maker = newSigningKey('maker-2025');
const adminPhone = newPhone();

let backend: TestBackend;
let admin: string;
let running: OtaDevice[] = [];

beforeAll(async () => {
  backend = await startTestBackend({
    auth: { adminPhones: [adminPhone] },
    firmware: { signingKeys: [{ id: maker.id, publicKey: maker.publicKey }], sweepIntervalMs: 200 },
  });
  admin = (await signIn(backend, adminPhone)).accessToken;
});

afterEach(async () => {
  await Promise.all(running.map((device) => device.stop()));
  running = [];
});

afterAll(async () => {
  await backend?.stop();
});

type Fleet = Array<{ sn: string; deviceSecret: string }>;

/** A model with `count` devices on `firmware`, and a signed image of `version` for it. */
async function fleetWithImage(count: number, options: { firmware?: string; version?: string } = {}) {
  const model = newModel();
  const devices = await registerFleet(backend, admin, count, { model, firmware: options.firmware ?? '1.0.0' });
  const uploaded = await uploadImage(backend, admin, {
    model,
    version: options.version ?? '1.1.0',
    image: newImage(32 * 1024),
    key: maker,
  });
  expect(uploaded.status).toBe(201);
  return { model, devices, firmwareId: uploaded.body.id as string };
}

async function startDevices(devices: Fleet, behaviourOf: (sn: string) => OtaBehaviour, firmware = '1.0.0'): Promise<OtaDevice[]> {
  const started = await Promise.all(
    devices.map((device) =>
      OtaDevice.start({
        url: backend.mqttUrl,
        sn: device.sn,
        secret: device.deviceSecret,
        firmware,
        behaviour: behaviourOf(device.sn),
        trustedKeys: [{ id: maker.id, publicKey: maker.publicKey }],
        chunkBytes: 8 * 1024,
        restartMs: 50,
      }),
    ),
  );
  running.push(...started);
  return started;
}

async function createCampaign(body: Record<string, unknown>) {
  return call('POST', `${backend.provisioningUrl}/v1/admin/campaigns`, { token: admin, body });
}

const countsOnly = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));

/** Jobs past their deadline, as if `jobTimeoutSeconds` had gone by: the sweep must time them out. */
async function expireJobOf(sn: string): Promise<void> {
  await sql(backend, `UPDATE firmware_jobs SET deadline = now() - interval '1 second' WHERE sn = $1 AND ended_at IS NULL`, [sn]);
}

async function registryFirmware(sns: string[]): Promise<Record<string, string | null>> {
  const rows = await sql<{ sn: string; firmware: string | null }>(backend, 'SELECT sn, firmware FROM devices WHERE sn = ANY($1)', [sns]);
  return Object.fromEntries(rows.map((row) => [row.sn, row.firmware]));
}

describe('a staged campaign', () => {
  it('over 20 devices in three steps, one failing its install, goes on to the end, each step after the last has ended', async () => {
    const { devices, firmwareId } = await fleetWithImage(20);
    const failing = devices[7].sn;
    const simulated = await startDevices(devices, (sn) => (sn === failing ? 'fail-install' : 'update'));

    const created = await createCampaign({ firmwareId, steps: [25, 50, 100] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'running', targeted: 20 });
    const done = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status !== 'running', 30_000);

    expect(done).toMatchObject({ status: 'completed', step: 3, steps: [25, 50, 100], targeted: 20 });
    expect(countsOnly(done.counts)).toEqual({ succeeded: 19, failed: 1 });
    const jobs = await jobsOf(backend, admin, created.body.id);
    expect(jobs.filter((job) => job.step === 1)).toHaveLength(5);
    expect(jobs.filter((job) => job.step === 2)).toHaveLength(5);
    expect(jobs.filter((job) => job.step === 3)).toHaveLength(10);
    for (const step of [2, 3]) {
      const previousEnded = Math.max(...jobs.filter((job) => job.step === step - 1).map((job) => Date.parse(job.endedAt)));
      const firstNotified = Math.min(...jobs.filter((job) => job.step === step).map((job) => Date.parse(job.notifiedAt)));
      expect(firstNotified).toBeGreaterThanOrEqual(previousEnded);
    }
    expect(jobs.find((job) => job.sn === failing)).toMatchObject({ state: 'failed', reason: 'install failed: flash write error' });

    const firmware = await registryFirmware(devices.map((device) => device.sn));
    for (const device of simulated)
      expect([device.sn, firmware[device.sn]]).toEqual([device.sn, device.sn === failing ? '1.0.0' : '1.1.0']);
  });

  it('with a third of its devices failing, pauses after the first step; resuming starts the next', async () => {
    const { devices, firmwareId } = await fleetWithImage(20);
    // Created while every device is offline: each gets its retained job when it connects.
    const created = await createCampaign({ firmwareId, steps: [25, 50, 100] });
    expect(created.status).toBe(201);
    const firstStep = (await jobsOf(backend, admin, created.body.id, '&step=1')).map((job) => job.sn);
    expect(firstStep).toHaveLength(5);
    const later = devices.map((device) => device.sn).filter((sn) => !firstStep.includes(sn));
    const failing = new Set([...firstStep.slice(0, 2), ...later.slice(0, 5)]);
    const simulated = await startDevices(devices, (sn) => (failing.has(sn) ? 'corrupt' : 'update'));

    const paused = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status !== 'running');
    expect(paused).toMatchObject({ status: 'paused', pauseReason: 'failureThreshold', step: 1 });
    expect(countsOnly(paused.counts)).toEqual({ succeeded: 3, failed: 2, pending: 15 });
    const failed = await jobsOf(backend, admin, created.body.id, '&state=failed');
    expect(failed.map((job) => job.reason)).toEqual(['sha256 mismatch', 'sha256 mismatch']);
    // Nobody beyond the first step was sent anything.
    for (const device of simulated.filter((candidate) => later.includes(candidate.sn))) expect(device.received).toEqual([]);

    const resumed = await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${created.body.id}/resume`, { token: admin });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'running', step: 2, pauseReason: null });
    await eventually(async () => (await jobsOf(backend, admin, created.body.id, '&step=2&state=pending')).length === 0);
  });

  it('times out a device that falls silent, clearing its job and its URL', async () => {
    const { devices, firmwareId } = await fleetWithImage(2);
    const [silent] = devices;
    const simulated = await startDevices(devices, (sn) => (sn === silent.sn ? 'silent' : 'update'));
    const created = await createCampaign({ firmwareId, jobTimeoutSeconds: 60 });
    await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.counts.succeeded === 1);
    const [job] = await jobsOf(backend, admin, created.body.id, '&state=notified');
    expect(job.sn).toBe(silent.sn);
    expect(Date.parse(job.deadline) - Date.parse(job.notifiedAt)).toBe(60_000);
    const silentDevice = simulated.find((device) => device.sn === silent.sn)!;
    const url = await eventually(async () => {
      const received = silentDevice.events.find((event) => event.state === 'received');
      return received && (await lastJobUrl(silent));
    });

    await expireJobOf(silent.sn);
    const done = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status === 'completed');
    expect(countsOnly(done.counts)).toEqual({ succeeded: 1, timedOut: 1 });
    await eventually(async () => silentDevice.events.some((event) => event.state === 'withdrawn'));
    const download = await call('GET', url, { headers: { authorization: basic(silent) } });
    expect(download.status).toBe(410);
  });

  it('cancelled, withdraws every job not yet started; a device already downloading finishes', async () => {
    const { devices, firmwareId } = await fleetWithImage(4);
    const created = await createCampaign({ firmwareId, steps: [50, 100] });
    const [waiting, started] = await jobsOf(backend, admin, created.body.id, '&step=1');
    const secretOf = (sn: string) => devices.find((device) => device.sn === sn)!;

    // One device of the first step received its job and said nothing yet; the other started downloading.
    const [waitingDevice] = await startDevices([secretOf(waiting.sn)], () => 'silent');
    await eventually(async () => waitingDevice.events.some((event) => event.state === 'received'));
    const startedClient = await connectDevice(backend.mqttUrl, started.sn, secretOf(started.sn).deviceSecret);
    const job = nextMessage(startedClient, (topic, payload) => topic === topics.otaJob(started.sn) && payload.length > 0);
    await startedClient.subscribeAsync(topics.otaJob(started.sn), { qos: 1 });
    const startedJob = JSON.parse((await job).payload.toString('utf8'));
    await startedClient.publishAsync(topics.otaProgress(started.sn), JSON.stringify({ jobId: startedJob.jobId, state: 'downloading' }), {
      qos: 1,
    });
    await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.counts.downloading === 1);
    const waitingUrl = await lastJobUrl(secretOf(waiting.sn));

    const cancelled = await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${created.body.id}/cancel`, { token: admin });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', endedAt: expect.any(String) });
    expect(countsOnly(cancelled.body.counts)).toEqual({ withdrawn: 3, downloading: 1 });
    await eventually(async () => waitingDevice.events.some((event) => event.state === 'withdrawn'));
    expect((await call('GET', waitingUrl, { headers: { authorization: basic(secretOf(waiting.sn)) } })).status).toBe(410);
    expect((await fetch(startedJob.url, { headers: { authorization: basic(secretOf(started.sn)) } })).status).toBe(200);

    // The devices of the second step were never sent anything: connecting now, they find no job.
    const secondStep = devices.filter((device) => device.sn !== waiting.sn && device.sn !== started.sn);
    for (const device of secondStep) expect(await retainedJob(device)).toBeNull();

    // The started device finishes: it is counted, and only then are all the campaign's devices free again.
    expect(await heldDevices(devices)).toEqual([started.sn]);
    await startedClient.publishAsync(topics.status(started.sn), JSON.stringify({ online: true, firmware: '1.1.0' }), {
      qos: 1,
      retain: true,
    });
    const finished = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.counts.succeeded === 1);
    expect(finished.status).toBe('cancelled');
    await eventually(async () => (await heldDevices(devices)).length === 0);
    await startedClient.endAsync();
  });

  it('refuses a downgrade (compared as numbers: 1.10.0 is newer than 1.9.0) unless allowDowngrade says so', async () => {
    const model = newModel();
    const newer = await registerFleet(backend, admin, 1, { model, firmware: '2.0.0' });
    const tenth = await registerFleet(backend, admin, 1, { model, firmware: '1.10.0' });
    const older = await uploadImage(backend, admin, { model, version: '1.9.0', image: newImage(1024), key: maker });

    const refused = await createCampaign({ firmwareId: older.body.id });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('CONFLICT');
    expect(refused.body.message).toMatch(/2 on a newer version \(a downgrade needs allowDowngrade\)/);
    expect(await heldDevices([...newer, ...tenth])).toEqual([]);

    const allowed = await createCampaign({ firmwareId: older.body.id, allowDowngrade: true });
    expect(allowed.status).toBe(201);
    expect(allowed.body.targeted).toBe(2);
    await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${allowed.body.id}/cancel`, { token: admin });
  });

  it('targets only fromVersions and sns when given, and leaves out devices already on the version', async () => {
    const model = newModel();
    const onOne = await registerFleet(backend, admin, 3, { model, firmware: '1.0.0' });
    const onTwo = await registerFleet(backend, admin, 2, { model, firmware: '1.2.0' });
    const current = await registerFleet(backend, admin, 1, { model, firmware: '1.5.0' });
    const image = await uploadImage(backend, admin, { model, version: '1.5.0', image: newImage(1024), key: maker });

    const bySns = await createCampaign({ firmwareId: image.body.id, sns: [onOne[0].sn, onTwo[0].sn, current[0].sn, 'NOT-A-DEVICE'] });
    expect(bySns.status).toBe(201);
    expect(bySns.body).toMatchObject({ targeted: 2, skipped: { alreadyOnVersion: 1, notFound: 1 } });
    expect((await jobsOf(backend, admin, bySns.body.id)).map((job) => job.sn).sort()).toEqual([onOne[0].sn, onTwo[0].sn].sort());

    const byVersion = await createCampaign({ firmwareId: image.body.id, fromVersions: ['1.2.0'] });
    expect(byVersion.status).toBe(201);
    // onTwo[0] is in the first campaign, which is not over: it stays there.
    expect(byVersion.body).toMatchObject({ targeted: 1, skipped: { inOtherCampaign: 1, notInFromVersions: 3, alreadyOnVersion: 1 } });
    expect((await jobsOf(backend, admin, byVersion.body.id)).map((job) => job.sn)).toEqual([onTwo[1].sn]);
    for (const id of [bySns.body.id, byVersion.body.id])
      await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${id}/cancel`, { token: admin });
  });

  it('sends its job to a device that was offline during its step when it comes back', async () => {
    const { devices, firmwareId } = await fleetWithImage(2);
    const [online, offline] = devices;
    await startDevices([online], () => 'update');
    const created = await createCampaign({ firmwareId });
    await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.counts.succeeded === 1);
    const waiting = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.counts.notified === 1);
    expect(waiting.status).toBe('running');

    const [returning] = await startDevices([offline], () => 'update');
    const done = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status === 'completed');
    expect(countsOnly(done.counts)).toEqual({ succeeded: 2 });
    expect(returning.firmware).toBe('1.1.0');
  });

  it('does not count a device that comes back on its old version after "installing" as updated', async () => {
    // Registered on 0.9.0, the device runs 1.0.0: once the registry says 1.0.0, its first status has been handled.
    const { devices, firmwareId } = await fleetWithImage(1, { firmware: '0.9.0' });
    const [device] = await startDevices(devices, () => 'old-version', '1.0.0');
    await eventually(async () => (await registryFirmware([device.sn]))[device.sn] === '1.0.0');
    const created = await createCampaign({ firmwareId, jobTimeoutSeconds: 60 });
    await eventually(async () => device.events.some((event) => event.state === 'restarted'), 10_000);
    // Its status after the restart has been handled: the job notes the version it came back on, and is not succeeded.
    const [job] = await eventually(async () => {
      const jobs = await jobsOf(backend, admin, created.body.id);
      return jobs[0]?.reportedVersion === '1.0.0' && jobs;
    });
    expect(job).toMatchObject({ state: 'installing', progress: 100, endedAt: null });
    const afterRestart = await campaignWhen(backend, admin, created.body.id, () => true);
    expect(afterRestart.status).toBe('running');
    expect(countsOnly(afterRestart.counts)).toEqual({ installing: 1 });
    expect((await registryFirmware([device.sn]))[device.sn]).toBe('1.0.0');

    await expireJobOf(device.sn);
    const done = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status === 'completed');
    expect(countsOnly(done.counts)).toEqual({ timedOut: 1 });
  });

  it('keeps a device in at most one campaign that is not over, even when two are created at once', async () => {
    const { devices, firmwareId } = await fleetWithImage(30);
    const answers = await Promise.all([createCampaign({ firmwareId }), createCampaign({ firmwareId })]);
    const created = answers.filter((answer) => answer.status === 201);
    const targeted = created.reduce((sum, answer) => sum + answer.body.targeted, 0);
    expect(targeted).toBe(30);
    for (const answer of answers.filter((candidate) => candidate.status !== 201)) expect(answer.body.error).toBe('CONFLICT');
    const rows = await sql<{ sn: string; count: number }>(
      backend,
      'SELECT sn, count(*)::int AS count FROM firmware_jobs WHERE sn = ANY($1) GROUP BY sn',
      [devices.map((device) => device.sn)],
    );
    expect(rows).toHaveLength(30);
    expect(rows.every((row) => row.count === 1)).toBe(true);

    // Once a campaign is over, its devices can be in the next one.
    for (const answer of created)
      await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${answer.body.id}/cancel`, { token: admin });
    const next = await createCampaign({ firmwareId });
    expect(next.status).toBe(201);
    expect(next.body.targeted).toBe(30);
    await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${next.body.id}/cancel`, { token: admin });
  });
});

describe('the device simulator', () => {
  it('plays appliances taking their jobs from the command line (npm run device:sim -- --ota), as the README walkthrough does', async () => {
    const { devices, firmwareId } = await fleetWithImage(2);
    const keys = join(backend.dataDir, 'trusted-keys.json');
    await writeFile(keys, JSON.stringify([{ id: maker.id, publicKey: maker.publicKey }]));
    const labels = join(backend.dataDir, 'ota-labels.csv');
    await writeFile(labels, ['sn,deviceSecret', ...devices.map((device) => `${device.sn},${device.deviceSecret}`)].join('\n'));
    const cli = spawn(
      process.execPath,
      [
        'dist/scripts/device-sim.js',
        '--labels',
        labels,
        '--url',
        backend.mqttUrl,
        '--firmware',
        '1.0.0',
        '--ota',
        'update',
        '--trust-keys',
        keys,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    try {
      await eventually(async () => output.split('\n').filter((line) => line.includes('"state":"ready"')).length === 2, 10_000);
      const created = await createCampaign({ firmwareId });
      const done = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status === 'completed');
      expect(countsOnly(done.counts)).toEqual({ succeeded: 2 });
      // The simulator prints `restarted` once its reconnect (which reports the new version) is done,
      // so the backend may count a success a moment before the line reaches this pipe.
      const restartedLines = () =>
        output
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
          .filter((event) => event.event === 'ota' && event.state === 'restarted');
      const restarted = await eventually(async () => restartedLines().length >= 2 && restartedLines(), 10_000);
      expect(restarted.map((event) => event.firmware)).toEqual(['1.1.0', '1.1.0']);
    } finally {
      cli.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('refuses --ota without the version the device runs, or with an unknown behaviour', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['dist/scripts/device-sim.js', '--sn', 'SN-0001', '--secret', 'x', ...args]);
    const noVersion = run(['--ota', 'update']);
    expect(noVersion.status).toBe(2);
    expect(noVersion.stderr.toString()).toMatch(/--ota needs --firmware <x\.y\.z>/);
    const unknown = run(['--ota', 'explode', '--firmware', '1.0.0']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.toString()).toMatch(/--ota must be one of update, fail-install, corrupt, silent, old-version/);
  });
});

describe('campaign requests', () => {
  it('refuses bad campaigns, naming the field', async () => {
    const { firmwareId } = await fleetWithImage(1);
    const cases: Array<[Record<string, unknown>, number, string, RegExp]> = [
      [{ firmwareId, steps: [50, 40] }, 400, 'VALIDATION_FAILED', /steps must rise/],
      [{ firmwareId, steps: [50] }, 400, 'VALIDATION_FAILED', /steps must end at 100/],
      [{ firmwareId, steps: [0, 100] }, 400, 'VALIDATION_FAILED', /steps/],
      [{ firmwareId, failureThreshold: 1.5 }, 400, 'VALIDATION_FAILED', /failureThreshold/],
      [{ firmwareId, jobTimeoutSeconds: 59 }, 400, 'VALIDATION_FAILED', /jobTimeoutSeconds/],
      [{ firmwareId, fromVersions: ['1.0'] }, 400, 'VALIDATION_FAILED', /fromVersions/],
      [{ firmwareId, sns: ['a/b'] }, 400, 'VALIDATION_FAILED', /sns/],
      [{ firmwareId, everyone: true }, 400, 'VALIDATION_FAILED', /unknown field everyone/],
      [{ firmwareId: 'not-a-uuid' }, 400, 'VALIDATION_FAILED', /firmwareId/],
      [{ firmwareId: '00000000-0000-4000-8000-000000000000' }, 404, 'NOT_FOUND', /No firmware image/],
    ];
    for (const [body, status, error, message] of cases) {
      const answer = await createCampaign(body);
      expect({ body, status: answer.status, error: answer.body.error }).toEqual({ body, status, error });
      expect(answer.body.message).toMatch(message);
    }
  });

  it('answers 404 for an unknown campaign and 409 for pausing, resuming or cancelling one that is over', async () => {
    const { devices, firmwareId } = await fleetWithImage(1);
    const unknown = await call('GET', `${backend.provisioningUrl}/v1/admin/campaigns/00000000-0000-4000-8000-000000000000`, {
      token: admin,
    });
    expect(unknown.status).toBe(404);
    await startDevices(devices, () => 'update');
    const created = await createCampaign({ firmwareId });
    await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status === 'completed');
    for (const action of ['pause', 'resume', 'cancel']) {
      const answer = await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${created.body.id}/${action}`, { token: admin });
      expect([action, answer.status, answer.body.error]).toEqual([action, 409, 'CONFLICT']);
    }
    const listed = await call('GET', `${backend.provisioningUrl}/v1/admin/campaigns?status=completed`, { token: admin });
    expect(listed.body.map((campaign: { id: string }) => campaign.id)).toContain(created.body.id);
  });

  it('pauses by hand: the next step waits until resumed', async () => {
    const { devices, firmwareId } = await fleetWithImage(4);
    const created = await createCampaign({ firmwareId, steps: [50, 100] });
    const paused = await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${created.body.id}/pause`, { token: admin });
    expect(paused.body).toMatchObject({ status: 'paused', pauseReason: 'admin' });
    await startDevices(devices, () => 'update');
    const stepDone = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.counts.succeeded === 2);
    expect(stepDone).toMatchObject({ status: 'paused', step: 1 });
    expect(stepDone.counts.pending).toBe(2);
    await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns/${created.body.id}/resume`, { token: admin });
    const done = await campaignWhen(backend, admin, created.body.id, (campaign) => campaign.status === 'completed');
    expect(countsOnly(done.counts)).toEqual({ succeeded: 4 });
  });
});

function basic(device: { sn: string; deviceSecret: string }): string {
  return `Basic ${Buffer.from(`${device.sn}:${device.deviceSecret}`).toString('base64')}`;
}

/** The job a device finds retained when it subscribes now, or null. */
async function retainedJob(device: { sn: string; deviceSecret: string }): Promise<any> {
  const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
  try {
    const message = nextMessage(client, (topic, payload) => topic === topics.otaJob(device.sn) && payload.length > 0, 700).catch(
      () => null,
    );
    await client.subscribeAsync(topics.otaJob(device.sn), { qos: 1 });
    const arrived = await message;
    return arrived && JSON.parse(arrived.payload.toString('utf8'));
  } finally {
    await client.endAsync();
  }
}

async function lastJobUrl(device: { sn: string; deviceSecret: string }): Promise<string> {
  // A second connection of the same device would take over the simulator's, so the URL comes from the device's own subscription log.
  const found = running.find((candidate) => candidate.sn === device.sn);
  const taken = found?.received.at(-1);
  if (taken) return taken.url;
  const job = await retainedJob(device);
  return job?.url;
}

async function heldDevices(devices: Fleet): Promise<string[]> {
  const rows = await sql<{ sn: string }>(backend, 'SELECT sn FROM firmware_jobs WHERE released_at IS NULL AND sn = ANY($1) ORDER BY sn', [
    devices.map((device) => device.sn),
  ]);
  return rows.map((row) => row.sn);
}
