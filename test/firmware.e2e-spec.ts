import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { topics } from '#libs/mqtt-contract';
import { sql, startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { connectDevice, eventually, nextMessage } from './factories/devices.js';
import { newImage, newModel, newSigningKey, registerFleet, signImage, uploadImage, jobsOf } from './factories/firmware.js';
import { newPhone, signIn } from './factories/users.js';

// Firmware store and delivery (EN 303 645 provision 5.3): signed uploads, and a job's download for its own device only.

const MAX_IMAGE_BYTES = 256 * 1024;
const maker = newSigningKey('maker-2025');
const secondKey = newSigningKey('maker-2026');
const stranger = newSigningKey('not-configured');
const adminPhone = newPhone();

let backend: TestBackend;
let admin: string;

beforeAll(async () => {
  backend = await startTestBackend({
    auth: { adminPhones: [adminPhone] },
    firmware: {
      signingKeys: [maker, secondKey].map(({ id, publicKey }) => ({ id, publicKey })),
      maxImageBytes: MAX_IMAGE_BYTES,
      sweepIntervalMs: 200,
    },
  });
  admin = (await signIn(backend, adminPhone)).accessToken;
});

afterAll(async () => {
  await backend?.stop();
});

const storageDir = () => join(backend.dataDir, 'firmware');
const storedFiles = async () => (await readdir(storageDir()).catch(() => [] as string[])).sort();
const imageRows = async (model: string) =>
  sql(backend, 'SELECT id, version FROM firmware_images WHERE model = $1 ORDER BY version', [model]);
const basic = (sn: string, secret: string) => `Basic ${Buffer.from(`${sn}:${secret}`).toString('base64')}`;

describe('uploading firmware', () => {
  it('keeps a signed image: SHA-256 and size recorded, the bytes in the storage folder', async () => {
    const model = newModel();
    const image = newImage(100_000);
    const uploaded = await uploadImage(backend, admin, { model, version: '1.4.0', image, key: maker });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toEqual({
      id: expect.any(String),
      model,
      version: '1.4.0',
      size: 100_000,
      sha256: createHash('sha256').update(image).digest('hex'),
      keyId: 'maker-2025',
      createdAt: expect.any(String),
    });
    expect(uploaded.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await readFile(join(storageDir(), `${uploaded.body.id}.bin`))).toEqual(image);

    const listed = await call('GET', `${backend.provisioningUrl}/v1/admin/firmware?model=${encodeURIComponent(model)}`, { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([uploaded.body]);
  });

  it('finds the verifying key itself when keyId is left out', async () => {
    const uploaded = await uploadImage(backend, admin, {
      model: newModel(),
      version: '2.0.0',
      image: newImage(),
      key: secondKey,
      keyId: null,
    });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.keyId).toBe('maker-2026');
  });

  it('refuses bad uploads with the contract codes and keeps nothing, on disk or in the table', async () => {
    const model = newModel();
    const image = newImage(10_000);
    const existing = await uploadImage(backend, admin, { model, version: '1.0.0', image, key: maker });
    expect(existing.status).toBe(201);
    const filesBefore = await storedFiles();

    const refusals: Array<[string, Promise<{ status: number; body: any }>, number, string, RegExp]> = [
      [
        'unsigned',
        uploadImage(backend, admin, { model, version: '1.1.0', image, signature: null }),
        400,
        'FIRMWARE_SIGNATURE_INVALID',
        /unsigned/,
      ],
      [
        'signed by a key nobody configured',
        uploadImage(backend, admin, { model, version: '1.1.0', image, key: stranger, keyId: null }),
        400,
        'FIRMWARE_SIGNATURE_INVALID',
        /No configured key/,
      ],
      [
        'an unknown keyId',
        uploadImage(backend, admin, { model, version: '1.1.0', image, key: stranger }),
        400,
        'FIRMWARE_SIGNATURE_INVALID',
        /not-configured/,
      ],
      [
        'the signature of other bytes',
        uploadImage(backend, admin, { model, version: '1.1.0', image, key: maker, signature: signImage(newImage(10), maker) }),
        400,
        'FIRMWARE_SIGNATURE_INVALID',
        /does not verify/,
      ],
      [
        'signed by the other configured key than keyId says',
        uploadImage(backend, admin, { model, version: '1.1.0', image, key: maker, signature: signImage(image, secondKey) }),
        400,
        'FIRMWARE_SIGNATURE_INVALID',
        /does not verify/,
      ],
      [
        'a signature that is not base64',
        uploadImage(backend, admin, { model, version: '1.1.0', image, key: maker, signature: 'not base64!' }),
        400,
        'FIRMWARE_SIGNATURE_INVALID',
        /base64/,
      ],
      [
        'a truncated signature',
        uploadImage(backend, admin, { model, version: '1.1.0', image, key: maker, signature: signImage(image, maker).slice(0, 40) }),
        400,
        'FIRMWARE_SIGNATURE_INVALID',
        /64-byte/,
      ],
      [
        'the version that exists',
        uploadImage(backend, admin, { model, version: '1.0.0', image: newImage(10), key: maker }),
        409,
        'CONFLICT',
        /already has/,
      ],
      [
        'a version that is not x.y.z',
        uploadImage(backend, admin, { model, version: '1.1', image, key: maker }),
        400,
        'VALIDATION_FAILED',
        /version must be x\.y\.z/,
      ],
      [
        'an empty image',
        uploadImage(backend, admin, {
          model,
          version: '1.1.0',
          image: Buffer.alloc(0),
          key: maker,
          signature: signImage(Buffer.alloc(0), maker),
        }),
        400,
        'VALIDATION_FAILED',
        /empty/,
      ],
      [
        'JSON instead of the image',
        uploadImage(backend, admin, {
          model,
          version: '1.1.0',
          image: Buffer.from('{"a":1}'),
          key: maker,
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'VALIDATION_FAILED',
        /octet-stream/,
      ],
      [
        'over the limit',
        uploadImage(backend, admin, { model, version: '1.1.0', image: newImage(MAX_IMAGE_BYTES + 1), key: maker }),
        413,
        'PAYLOAD_TOO_LARGE',
        /larger than 262144 bytes/,
      ],
    ];
    for (const [what, answer, status, error, message] of refusals) {
      const { status: got, body } = await answer;
      expect({ what, got, error: body?.error }).toEqual({ what, got: status, error });
      expect(body.message).toMatch(message);
    }
    expect((await imageRows(model)).map((row) => row.version)).toEqual(['1.0.0']);
    expect(await storedFiles()).toEqual(filesBefore);
  });

  it('stops reading an upload of unknown length once it passes the limit', async () => {
    const model = newModel();
    const filesBefore = await storedFiles();
    const big = newImage(MAX_IMAGE_BYTES + 64 * 1024);
    const query = new URLSearchParams({ model, version: '1.0.0', keyId: maker.id, signature: signImage(big, maker) });
    const chunks = Array.from({ length: Math.ceil(big.length / 8192) }, (_, index) => big.subarray(index * 8192, (index + 1) * 8192));
    const response = await fetch(`${backend.provisioningUrl}/v1/admin/firmware?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(Readable.from(chunks)) as ReadableStream,
      duplex: 'half',
    } as RequestInit).catch((error: unknown) => error);
    // The server answers 413 mid-body; a client may see the answer or the connection closing under it.
    if (response instanceof Response) {
      expect(response.status).toBe(413);
      expect((await response.json()).error).toBe('PAYLOAD_TOO_LARGE');
    }
    expect(await imageRows(model)).toEqual([]);
    expect(await storedFiles()).toEqual(filesBefore);
  });

  it('is for admins only', async () => {
    const someone = await signIn(backend);
    const image = newImage(1000);
    const asUser = await uploadImage(backend, someone.accessToken, { model: newModel(), version: '1.0.0', image, key: maker });
    expect(asUser.status).toBe(403);
    expect(asUser.body.error).toBe('FORBIDDEN');
    const anonymous = await call('GET', `${backend.provisioningUrl}/v1/admin/firmware`);
    expect(anonymous.status).toBe(401);
    const campaigns = await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns`, { token: someone.accessToken, body: {} });
    expect(campaigns.status).toBe(403);
  });
});

describe('delivering a job', () => {
  let model: string;
  let image: Buffer;
  let firmwareId: string;
  let devices: Array<{ sn: string; deviceSecret: string }>;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    model = newModel();
    image = newImage(50_000);
    firmwareId = (await uploadImage(backend, admin, { model, version: '2.0.0', image, key: maker })).body.id;
    devices = await registerFleet(backend, admin, 3, { model, firmware: '1.0.0' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync()));
  });

  async function deviceWithJob(device: { sn: string; deviceSecret: string }) {
    const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
    clients.push(client);
    const message = nextMessage(client, (topic, payload) => topic === topics.otaJob(device.sn) && payload.length > 0);
    await client.subscribeAsync(topics.otaJob(device.sn), { qos: 1 });
    const arrived = await message;
    return { client, arrived, job: JSON.parse(arrived.payload.toString('utf8')) };
  }

  it('sends each device its retained job and serves the image to it alone, with ranges to resume', async () => {
    const created = await call('POST', `${backend.provisioningUrl}/v1/admin/campaigns`, { token: admin, body: { firmwareId } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), status: 'running', targeted: 3 });

    const [a, b] = devices;
    const { arrived, job } = await deviceWithJob(a);
    expect(arrived.retain).toBe(true);
    expect(arrived.qos).toBe(1);
    expect(job).toEqual({
      jobId: expect.any(String),
      version: '2.0.0',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1\/firmware\/jobs\/[0-9a-f-]{36}\/image\?token=[0-9a-f]{64}$/),
      size: image.length,
      sha256: createHash('sha256').update(image).digest('hex'),
      signature: signImage(image, maker),
      keyId: 'maker-2025',
    });

    const whole = await fetch(job.url, { headers: { authorization: basic(a.sn, a.deviceSecret) } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(image);

    const first = await fetch(job.url, { headers: { authorization: basic(a.sn, a.deviceSecret), range: 'bytes=0-9999' } });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-9999/${image.length}`);
    const rest = await fetch(job.url, { headers: { authorization: basic(a.sn, a.deviceSecret), range: 'bytes=10000-' } });
    expect(rest.status).toBe(206);
    expect(Buffer.concat([Buffer.from(await first.arrayBuffer()), Buffer.from(await rest.arrayBuffer())])).toEqual(image);
    const beyond = await fetch(job.url, { headers: { authorization: basic(a.sn, a.deviceSecret), range: `bytes=${image.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${image.length}`);

    // Another device, with its own valid credentials, cannot use A's URL; nor can anyone without credentials or with a wrong token.
    const other = await call('GET', job.url, { headers: { authorization: basic(b.sn, b.deviceSecret) } });
    expect(other.status).toBe(404);
    expect(other.body.error).toBe('NOT_FOUND');
    const anonymous = await fetch(job.url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrongSecret = await call('GET', job.url, { headers: { authorization: basic(a.sn, b.deviceSecret) } });
    expect(wrongSecret.status).toBe(401);
    const wrongToken = await call('GET', job.url.replace(/token=\w+/, `token=${'0'.repeat(64)}`), {
      headers: { authorization: basic(a.sn, a.deviceSecret) },
    });
    expect(wrongToken.status).toBe(404);
  });

  it("ignores progress for a job that is not the device's own, and its URL stops working once the job ends", async () => {
    const [, b, c] = devices;
    const [campaign] = (await call('GET', `${backend.provisioningUrl}/v1/admin/campaigns`, { token: admin })).body.filter(
      (found: { firmwareId: string }) => found.firmwareId === firmwareId,
    );
    const bJob = await deviceWithJob(b);
    const cJob = await deviceWithJob(c);

    // c claims b's job failed: nothing changes for b.
    await cJob.client.publishAsync(
      topics.otaProgress(c.sn),
      JSON.stringify({ jobId: bJob.job.jobId, state: 'failed', reason: 'spoofed' }),
      {
        qos: 1,
      },
    );
    await cJob.client.publishAsync(
      topics.otaProgress(c.sn),
      JSON.stringify({ jobId: cJob.job.jobId, state: 'downloading', progress: 10 }),
      {
        qos: 1,
      },
    );
    await eventually(async () => (await jobsOf(backend, admin, campaign.id, '&state=downloading')).some((job) => job.sn === c.sn));
    const bRow = (await jobsOf(backend, admin, campaign.id)).find((job) => job.sn === b.sn);
    expect(bRow).toMatchObject({ state: 'notified', reason: null });

    // b's install fails: its job ends, its retained job is cleared, its URL answers 410.
    const cleared = nextMessage(bJob.client, (topic, payload) => topic === topics.otaJob(b.sn) && payload.length === 0);
    await bJob.client.publishAsync(
      topics.otaProgress(b.sn),
      JSON.stringify({ jobId: bJob.job.jobId, state: 'failed', reason: 'flash error' }),
      {
        qos: 1,
      },
    );
    await cleared;
    const ended = await call('GET', bJob.job.url, { headers: { authorization: basic(b.sn, b.deviceSecret) } });
    expect(ended.status).toBe(410);
    expect(ended.body.error).toBe('FIRMWARE_JOB_ENDED');
    expect((await jobsOf(backend, admin, campaign.id)).find((job) => job.sn === b.sn)).toMatchObject({
      state: 'failed',
      reason: 'flash error',
    });

    // A fresh subscription finds no retained job any more.
    const again = await connectDevice(backend.mqttUrl, `${b.sn}`, b.deviceSecret, { clientId: b.sn });
    clients.push(again);
    const retained = nextMessage(again, (topic) => topic === topics.otaJob(b.sn), 1000).catch(() => null);
    await again.subscribeAsync(topics.otaJob(b.sn), { qos: 1 });
    expect(await retained).toBeNull();
  });

  it("keeps the registry's firmware to what the device reports", async () => {
    const [device] = await registerFleet(backend, admin, 1, { model, firmware: '1.0.0' });
    const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
    clients.push(client);
    await client.publishAsync(topics.status(device.sn), JSON.stringify({ online: true, firmware: '1.0.7' }), { qos: 1, retain: true });
    await eventually(async () => (await sql(backend, 'SELECT firmware FROM devices WHERE sn = $1', [device.sn]))[0].firmware === '1.0.7');
  });
});

describe('OpenAPI', () => {
  it('describes the firmware routes with their answers and error bodies', async () => {
    const document = (await call('GET', `${backend.provisioningUrl}/docs-json`)).body;
    const upload = document.paths['/v1/admin/firmware'].post;
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409', '413']));
    expect(upload.responses['400'].description).toMatch(/FIRMWARE_SIGNATURE_INVALID/);
    expect(upload.responses['201'].content['application/json'].schema.$ref).toMatch(/FirmwareSchema/);
    expect(upload.responses['413'].content['application/json'].schema.$ref).toMatch(/ErrorBodySchema/);
    const campaign = document.paths['/v1/admin/campaigns/{id}'].get;
    expect(campaign.responses['200'].content['application/json'].schema.$ref).toMatch(/CampaignSchema/);
    const download = document.paths['/v1/firmware/jobs/{jobId}/image'].get;
    expect(Object.keys(download.responses)).toEqual(expect.arrayContaining(['200', '206', '401', '404', '410', '416']));
    for (const path of ['/v1/admin/campaigns/{id}/pause', '/v1/admin/campaigns/{id}/resume', '/v1/admin/campaigns/{id}/cancel']) {
      expect(Object.keys(document.paths[path].post.responses)).toEqual(expect.arrayContaining(['200', '404', '409']));
    }
  });
});
