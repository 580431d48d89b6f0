import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { topics } from '#libs/mqtt-contract';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { eventually, registerDevices } from './factories/devices.js';
import { newFaultReport, reportingDevice } from './factories/faults.js';
import { signIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900000711';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text → samples, and each metric's declared type. */
async function scrape(baseUrl: string): Promise<{ samples: Sample[]; types: Map<string, string>; text: string }> {
  const response = await fetch(`${baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const declared = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (declared) types.set(declared[1], declared[2]);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample || line.startsWith('#')) continue;
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((match) => [match[1], match[2]]));
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { samples, types, text };
}

const valueOf = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);

describe('services /metrics', () => {
  let backend: TestBackend;
  let adminToken: string;

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    adminToken = (await signIn(backend, ADMIN_PHONE)).accessToken;
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('fault-feedback: HTTP latency by route template, fault reports handled and refused by reason', async () => {
    const [device] = await registerDevices(backend, adminToken);
    const owner = await signIn(backend);
    expect((await call('GET', `${backend.faultsUrl}/v1/devices/${device.sn}/faults`, { token: owner.accessToken })).status).toBe(403);
    const appliance = await reportingDevice(backend, device);
    try {
      const good = newFaultReport();
      await appliance.send(good);
      await appliance.ackFor(good.reportId);
      await appliance.send('not json');
      await appliance.send(`{"reportId":"r","diagnostics":${'['.repeat(100)}${']'.repeat(100)}}`);
      await appliance.send(newFaultReport({ severity: 'apocalyptic' }));
      await eventually(async () => appliance.acks.length >= 4);
    } finally {
      await appliance.client.endAsync();
    }

    const { samples, types, text } = await scrape(backend.faultsUrl);
    const route = { method: 'GET', route: '/v1/devices/:sn/faults', status_code: '403' };
    expect(valueOf(samples, 'http_request_duration_seconds_count', route)).toBe(1);
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    expect(valueOf(samples, 'mqtt_messages_handled_total', { topic: 'faults' })).toBe(4);
    expect(valueOf(samples, 'mqtt_messages_refused_total', { topic: 'faults', reason: 'not_json' })).toBe(1);
    expect(valueOf(samples, 'mqtt_messages_refused_total', { topic: 'faults', reason: 'too_deep' })).toBe(1);
    expect(valueOf(samples, 'mqtt_messages_refused_total', { topic: 'faults', reason: 'invalid' })).toBe(1);
    expect(valueOf(samples, 'mqtt_messages_failed_total', {})).toBe(0);
    // Labels carry templates and fixed reasons, never an SN, an id or a payload's words.
    expect(text).not.toContain(device.sn);
    expect(text).not.toContain('apocalyptic');
  });

  it('provisioning: HTTP latency by route template (unknown paths pooled), refused resets and confirmations', async () => {
    await call('POST', `${backend.provisioningUrl}/v1/auth/otp`, { body: { phone: 'not-a-phone' } });
    await call('GET', `${backend.provisioningUrl}/no/such/path/SN-SECRET-1`);
    const [device] = await registerDevices(backend, adminToken);
    const appliance = await reportingDevice(backend, device);
    try {
      await appliance.client.publishAsync(topics.reset(device.sn), 'not json', { qos: 1 });
      await appliance.client.publishAsync(topics.pairingConfirm(device.sn), '[]', { qos: 1 });
    } finally {
      await appliance.client.endAsync();
    }
    const { samples, text } = await eventually(async () => {
      const scraped = await scrape(backend.provisioningUrl);
      return valueOf(scraped.samples, 'mqtt_messages_handled_total', {}) >= 2 ? scraped : undefined;
    });
    expect(valueOf(samples, 'http_request_duration_seconds_count', { route: '/v1/auth/otp', status_code: '400' })).toBe(1);
    expect(valueOf(samples, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).toBe(1);
    expect(valueOf(samples, 'mqtt_messages_refused_total', { topic: 'reset', reason: 'not_json' })).toBe(1);
    expect(valueOf(samples, 'mqtt_messages_refused_total', { topic: 'pairingConfirm', reason: 'not_object' })).toBe(1);
    expect(text).not.toContain('SN-SECRET-1');
  });

  it('counts that only grow are counters named *_total, in both services and the broker', async () => {
    for (const base of [backend.provisioningUrl, backend.faultsUrl, backend.brokerHttpUrl]) {
      const { types } = await scrape(base);
      const counters = [...types].filter(([, type]) => type === 'counter').map(([name]) => name);
      expect(counters.length).toBeGreaterThan(0);
      expect(counters.filter((name) => !name.endsWith('_total'))).toEqual([]);
    }
  });
});
