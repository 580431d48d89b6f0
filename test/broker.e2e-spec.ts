import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generate, type Packet } from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { hashServicePassword } from '../apps/broker/src/service-accounts.js';
import { loadConfig, type AppConfig } from '#libs/config';
import { parseQrPayload } from '#libs/devices';
import { topicPatterns, topics } from '#libs/mqtt-contract';
import { createLogger, type RunningApp } from '#libs/platform';
import {
  closed,
  connect,
  connectDevice,
  eventually,
  grantFor,
  newDeviceRow,
  newSn,
  nextMessage,
  registerDevices,
  type RegisteredDevice,
} from './factories/devices.js';
import { signIn } from './factories/users.js';
import { sql, startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';

const ADMIN_PHONE = '+8613700000077';

describe('MQTT broker: registry, credentials, ACL, presence, limits', () => {
  let backend: TestBackend;
  let adminToken: string;
  let userToken: string;
  const clients: MqttClient[] = [];
  const track = <T extends MqttClient>(client: T): T => (clients.push(client), client);

  beforeAll(async () => {
    backend = await startTestBackend({
      auth: { adminPhones: [ADMIN_PHONE] },
      // The bad-packets test sends dozens of CONNECTs with a wrong secret for a registered device, then expects that
      // device served: here the username budget is out of its way. The throttle has a broker of its own below.
      mqtt: { presenceFlushMs: 200, maxPayloadBytes: 4096, authThrottle: { maxFailuresPerUsername: 1000 } },
    });
    adminToken = (await signIn(backend, ADMIN_PHONE)).accessToken;
    userToken = (await signIn(backend)).accessToken;
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await backend?.stop();
  });

  const serviceAccount = (name: 'provisioning' | 'faultFeedback') => backend.backend.config.mqtt.serviceAccounts[name];
  const connectService = (name: 'provisioning' | 'faultFeedback', options = {}) =>
    connect(backend.mqttUrl, {
      username: serviceAccount(name).username,
      password: serviceAccount(name).password,
      clientId: `${serviceAccount(name).username}-test-${randomUUID().slice(0, 8)}`,
      ...options,
    }).then(track);
  const device = async (registered: RegisteredDevice) =>
    track(await connectDevice(backend.mqttUrl, registered.sn, registered.deviceSecret));
  const metricsText = async () => (await fetch(`${backend.brokerHttpUrl}/metrics`)).text();
  const metricValue = (text: string, name: string, labels = '') => {
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(`${name}${labels} `) || candidate.startsWith(`${name}${labels}{`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  const totalOf = (text: string, name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);

  describe('device registry', () => {
    it('registers a JSON batch, shows each secret once with a QR, and keeps only hashes', async () => {
      const rows = [newDeviceRow(), newDeviceRow({ firmware: undefined })];
      const response = await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, { token: adminToken, body: rows });
      expect(response.status).toBe(201);
      expect(response.body).toHaveLength(2);
      for (const [index, entry] of (response.body as Array<Record<string, string>>).entries()) {
        expect(entry.sn).toBe(rows[index].sn);
        expect(entry.status).toBe('registered');
        expect(Buffer.from(entry.deviceSecret, 'base64url').length).toBeGreaterThanOrEqual(16);
        expect(parseQrPayload(entry.qr)?.sn).toBe(rows[index].sn);
      }
      const stored = await sql<{ secret_hash: string; claim_code_hash: string }>(
        backend,
        'SELECT secret_hash, claim_code_hash FROM devices WHERE sn = $1',
        [rows[0].sn],
      );
      const secret = (response.body as Array<Record<string, string>>)[0].deviceSecret;
      expect(stored[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(secret);
      expect(JSON.stringify(stored)).not.toContain(parseQrPayload((response.body as Array<Record<string, string>>)[0].qr)!.claimCode);
    });

    it('accepts CSV and reports an SN already registered without overwriting it', async () => {
      const [existing] = await registerDevices(backend, adminToken);
      const before = await sql(backend, 'SELECT secret_hash FROM devices WHERE sn = $1', [existing.sn]);
      const fresh = newDeviceRow();
      const csv = `sn,mac,model,firmware\n${existing.sn},AA:BB:CC:DD:EE:01,M1,1\n${fresh.sn},${fresh.mac},"Heater, 2kW",\n`;
      const response = await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, {
        token: adminToken,
        body: csv,
        headers: { 'content-type': 'text/csv' },
      });
      expect(response.status).toBe(201);
      expect(response.body).toEqual([
        expect.objectContaining({ sn: fresh.sn, status: 'registered' }),
        { sn: existing.sn, status: 'already_registered' },
      ]);
      expect(await sql(backend, 'SELECT secret_hash FROM devices WHERE sn = $1', [existing.sn])).toEqual(before);
      expect((await sql<{ model: string }>(backend, 'SELECT model FROM devices WHERE sn = $1', [fresh.sn]))[0].model).toBe('Heater, 2kW');
      await device(existing);
    });

    it('refuses a batch with a bad row and registers none of it', async () => {
      const good = newDeviceRow();
      for (const bad of [{ sn: 'SN/with/slash' }, { sn: 'SN+1234' }, { sn: 'has space' }, { mac: 'not-a-mac' }, { sn: 'SN#12345' }]) {
        const response = await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, {
          token: adminToken,
          body: [good, newDeviceRow(bad)],
        });
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('VALIDATION_FAILED');
        expect(response.body.message).toMatch(/item 1/);
      }
      const unknownField = await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, {
        token: adminToken,
        body: [{ ...good, owner: 'x' }],
      });
      expect(unknownField.status).toBe(400);
      expect(await sql(backend, 'SELECT 1 FROM devices WHERE sn = $1', [good.sn])).toHaveLength(0);
    });

    it('is for admins only', async () => {
      expect((await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, { token: userToken, body: [newDeviceRow()] })).status).toBe(
        403,
      );
      expect((await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, { body: [newDeviceRow()] })).status).toBe(401);
      expect((await call('POST', `${backend.provisioningUrl}/v1/admin/devices/${newSn()}/revoke`, { token: userToken })).status).toBe(403);
      expect((await call('POST', `${backend.provisioningUrl}/v1/admin/devices/${newSn()}/revoke`, { token: adminToken })).status).toBe(404);
    });
  });

  describe('authentication', () => {
    let registered: RegisteredDevice;
    beforeAll(async () => {
      [registered] = await registerDevices(backend, adminToken);
    });

    it('accepts a device with SN and secret, and the built-in services', async () => {
      const client = await device(registered);
      expect(client.connected).toBe(true);
      expect((await connectService('provisioning')).connected).toBe(true);
      expect((await connectService('faultFeedback')).connected).toBe(true);
    });

    it.each([
      [
        'a wrong secret',
        (r: RegisteredDevice) => ({ clientId: r.sn, username: r.sn, password: 'x'.repeat(43) }),
        /Bad username or password/,
      ],
      ['no credentials', (r: RegisteredDevice) => ({ clientId: r.sn }), /Not authorized/],
      [
        'a clientId that is not the SN',
        (r: RegisteredDevice) => ({ clientId: `${r.sn}-x`, username: r.sn, password: r.deviceSecret }),
        /Identifier rejected/,
      ],
      ['an unknown SN', () => ({ clientId: 'UNKNOWN-1', username: 'UNKNOWN-1', password: 'x'.repeat(43) }), /Bad username or password/],
      [
        'a service name with a device secret',
        (r: RegisteredDevice) => ({ clientId: 'svc-provisioning-x', username: 'svc-provisioning', password: r.deviceSecret }),
        /Bad username or password/,
      ],
    ])('refuses %s', async (_label, options, message) => {
      const before = totalOf(await metricsText(), 'mqtt_auth_failures_total');
      await expect(connect(backend.mqttUrl, options(registered))).rejects.toThrow(message);
      expect(totalOf(await metricsText(), 'mqtt_auth_failures_total')).toBe(before + 1);
    });

    it('keeps a reconnect storm off the database once credentials are cached', async () => {
      const devices = await registerDevices(backend, adminToken, 20);
      await Promise.all(devices.map(async (entry) => (await connectDevice(backend.mqttUrl, entry.sn, entry.deviceSecret)).endAsync()));
      const missesBefore = metricValue(await metricsText(), 'mqtt_auth_cache_misses_total');
      expect(missesBefore).toBeGreaterThanOrEqual(devices.length);
      await Promise.all(devices.map(async (entry) => (await connectDevice(backend.mqttUrl, entry.sn, entry.deviceSecret)).endAsync()));
      expect(metricValue(await metricsText(), 'mqtt_auth_cache_misses_total')).toBe(missesBefore);
    });
  });

  describe('rotate and revoke', () => {
    it('rotating closes the open connection, refuses the old secret and accepts the new one', async () => {
      const [registered] = await registerDevices(backend, adminToken);
      const client = await device(registered);
      const gone = closed(client);
      const rotated = await call('POST', `${backend.provisioningUrl}/v1/admin/devices/${registered.sn}/rotate-secret`, {
        token: adminToken,
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body.deviceSecret).not.toBe(registered.deviceSecret);
      await gone;
      await expect(connectDevice(backend.mqttUrl, registered.sn, registered.deviceSecret)).rejects.toThrow(/Bad username or password/);
      expect((await device({ ...registered, deviceSecret: rotated.body.deviceSecret })).connected).toBe(true);
    });

    it('revoking drops the open connection and refuses reconnects until a new secret is issued', async () => {
      const [registered] = await registerDevices(backend, adminToken);
      const client = await device(registered);
      const gone = closed(client);
      const revoked = await call('POST', `${backend.provisioningUrl}/v1/admin/devices/${registered.sn}/revoke`, { token: adminToken });
      expect(revoked.status).toBe(200);
      await gone;
      await expect(connectDevice(backend.mqttUrl, registered.sn, registered.deviceSecret)).rejects.toThrow(/Bad username or password/);
      const rotated = await call('POST', `${backend.provisioningUrl}/v1/admin/devices/${registered.sn}/rotate-secret`, {
        token: adminToken,
      });
      expect((await device({ ...registered, deviceSecret: rotated.body.deviceSecret })).connected).toBe(true);
      expect(metricValue(await metricsText(), 'mqtt_credential_disconnects_total')).toBeGreaterThanOrEqual(1);
    });

    it('refuses a credentials notice from anyone but provisioning', async () => {
      const [victim, attacker] = await registerDevices(backend, adminToken, 2);
      const victimClient = await device(victim);
      const faults = await connectService('faultFeedback');
      const faultsGone = closed(faults);
      faults.publish('$internal/devices/credentials', JSON.stringify({ sn: victim.sn, change: 'revoked' }), { qos: 1 });
      await faultsGone;
      const attackerClient = await device(attacker);
      const attackerGone = closed(attackerClient);
      attackerClient.publish('$internal/devices/credentials', JSON.stringify({ sn: victim.sn, change: 'revoked' }), { qos: 1 });
      await attackerGone;
      expect(victimClient.connected).toBe(true);
    });
  });

  describe('authorization', () => {
    let mine: RegisteredDevice;
    let other: RegisteredDevice;
    beforeAll(async () => {
      [mine, other] = await registerDevices(backend, adminToken, 2);
    });

    it('delivers a device fault to fault-feedback and its ack back to the device only', async () => {
      const service = await connectService('faultFeedback');
      await service.subscribeAsync(topicPatterns.faults, { qos: 1 });
      const client = await device(mine);
      const otherClient = await device(other);
      // QoS 2 is downgraded for devices: SUBACK grants QoS 1 and deliveries come at QoS 1
      const [granted] = await client.subscribeAsync(topics.faultsAck(mine.sn), { qos: 2 });
      expect(granted.qos).toBe(1);
      const report = { reportId: randomUUID(), code: 'E42', severity: 'warning', occurredAt: new Date().toISOString() };
      const arrived = nextMessage(service, (topic) => topic === topics.faults(mine.sn));
      await client.publishAsync(topics.faults(mine.sn), JSON.stringify(report), { qos: 1 });
      expect(JSON.parse((await arrived).payload.toString())).toEqual(report);
      // fault-feedback itself answers this report too; wait for the answer this test's service sends
      const ack = nextMessage(
        client,
        (topic, payload) => topic === topics.faultsAck(mine.sn) && JSON.parse(payload.toString()).stored === 'full',
      );
      let otherGotIt = false;
      otherClient.on('message', () => (otherGotIt = true));
      await service.publishAsync(topics.faultsAck(mine.sn), JSON.stringify({ reportId: report.reportId, stored: 'full' }), { qos: 2 });
      const delivered = await ack;
      expect(JSON.parse(delivered.payload.toString())).toEqual({ reportId: report.reportId, stored: 'full' });
      expect(delivered.qos).toBe(1);
      expect(otherGotIt).toBe(false);
    });

    it('refuses subscriptions outside the own namespace, and $SYS, with SUBACK 128', async () => {
      const client = await device(mine);
      for (const filter of [
        '#',
        'devices/#',
        'devices/+/faults/ack',
        `devices/${other.sn}/faults/ack`,
        '$SYS/#',
        `+/${mine.sn}/faults/ack`,
      ]) {
        expect([filter, await grantFor(client, filter)]).toEqual([filter, 128]);
      }
      expect(await grantFor(client, `devices/${mine.sn}/#`)).toBe(1);
      const service = await connectService('provisioning');
      expect(await grantFor(service, '$SYS/#', 0)).toBe(0);
      expect(await grantFor(service, topicPatterns.faults)).toBe(128);
      expect(metricValue(await metricsText(), 'mqtt_subscriptions_refused_total', '{reason="foreign_namespace"}')).toBeGreaterThanOrEqual(
        4,
      );
    });

    it.each([
      ['another device namespace', (sn: string, otherSn: string) => topics.faults(otherSn), 'foreign_namespace'],
      ['a topic flowing towards devices', (sn: string) => topics.faultsAck(sn), 'wrong_direction'],
      ['$SYS', () => '$SYS/broker/fake', 'reserved'],
    ])('disconnects a device publishing to %s and counts it', async (_label, topicFor, reason) => {
      const client = await device(mine);
      const before = metricValue(await metricsText(), 'mqtt_messages_dropped_total', `{reason="${reason}"}`);
      const gone = closed(client);
      client.publish(topicFor(mine.sn, other.sn), '{}', { qos: 1 });
      await gone;
      expect(metricValue(await metricsText(), 'mqtt_messages_dropped_total', `{reason="${reason}"}`)).toBe(before + 1);
      expect((await device(other)).connected).toBe(true);
    });

    it('disconnects a publish over the payload limit', async () => {
      const client = await device(mine);
      const gone = closed(client);
      client.publish(topics.status(mine.sn), Buffer.alloc(5000, 'x'), { qos: 1 });
      await gone;
      expect(metricValue(await metricsText(), 'mqtt_messages_dropped_total', '{reason="too_large"}')).toBeGreaterThanOrEqual(1);
    });
  });

  describe('presence', () => {
    it('publishes retained {online:false} when a device drops and writes last-seen in batches', async () => {
      const [registered] = await registerDevices(backend, adminToken);
      const client = await device(registered);
      await client.publishAsync(topics.status(registered.sn), JSON.stringify({ online: true, firmware: '1.0.0' }), {
        qos: 1,
        retain: true,
      });
      await eventually(
        async () =>
          (
            await sql<{ online: boolean }>(backend, 'SELECT online FROM devices WHERE sn = $1 AND last_seen_at IS NOT NULL', [
              registered.sn,
            ])
          )[0]?.online,
      );
      const watcher = await connectService('provisioning');
      await watcher.subscribeAsync(topics.status(registered.sn), { qos: 1 });
      const offline = nextMessage(watcher, (_topic, payload) => JSON.parse(payload.toString()).online === false);
      client.stream.destroy();
      expect(JSON.parse((await offline).payload.toString())).toEqual({ online: false });
      const late = await connectService('provisioning');
      const retained = nextMessage(late, (topic) => topic === topics.status(registered.sn));
      await late.subscribeAsync(topics.status(registered.sn), { qos: 1 });
      const message = await retained;
      expect(message.retain).toBe(true);
      expect(JSON.parse(message.payload.toString())).toEqual({ online: false });
      await eventually(
        async () =>
          (await sql<{ online: boolean }>(backend, 'SELECT online FROM devices WHERE sn = $1', [registered.sn]))[0]?.online === false,
      );
    });
  });

  describe('HTTP side', () => {
    it('serves /health and /metrics with the broker counters', async () => {
      expect((await call('GET', `${backend.brokerHttpUrl}/health`)).status).toBe(200);
      const text = await metricsText();
      for (const name of [
        'mqtt_connected_clients',
        'mqtt_connects_total',
        'mqtt_auth_failures_total',
        'mqtt_messages_in_total',
        'mqtt_messages_out_total',
        'mqtt_messages_dropped_total',
      ]) {
        expect(text).toContain(`# TYPE ${name}`);
      }
      expect(metricValue(text, 'mqtt_connected_clients')).toBeGreaterThan(0);
      expect(metricValue(text, 'mqtt_messages_in_total')).toBeGreaterThan(0);
      expect(metricValue(text, 'mqtt_messages_out_total')).toBeGreaterThan(0);
    });

    it('names every count that only grows a Counter ending in _total', async () => {
      const types = [...(await metricsText()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }));
      const counters = types.filter(({ type }) => type === 'counter').map(({ name }) => name);
      expect(counters).toEqual(
        expect.arrayContaining(['mqtt_auth_cache_hits_total', 'mqtt_auth_cache_misses_total', 'mqtt_auth_throttled_total']),
      );
      expect(counters.filter((name) => !name.endsWith('_total'))).toEqual([]);
      const gauges = types.filter(({ type }) => type === 'gauge').map(({ name }) => name);
      expect(gauges.filter((name) => name.startsWith('mqtt_'))).toEqual(['mqtt_connected_clients', 'mqtt_auth_cache_entries']);
    });
  });

  describe('bad packets', () => {
    it('survives random and mutated packets, then still serves a legitimate device', async () => {
      const [registered] = await registerDevices(backend, adminToken);
      const valid: Packet[] = [
        {
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: registered.sn,
          keepalive: 30,
          username: registered.sn,
          password: Buffer.from('wrong'),
        } as Packet,
        {
          cmd: 'publish',
          topic: topics.faults(registered.sn),
          payload: Buffer.from('{}'),
          qos: 1,
          messageId: 7,
          retain: false,
          dup: false,
        } as Packet,
        { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: '#', qos: 1 }] } as Packet,
        { cmd: 'pingreq' } as Packet,
      ];
      const seeds = valid.map((packet) => generate(packet));
      let seed = 42;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      const payloads: Buffer[] = [];
      for (let index = 0; index < 150; index += 1) {
        if (index % 3 === 0) {
          payloads.push(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256))));
        } else {
          const base = Buffer.from(seeds[index % seeds.length]);
          for (let flips = 0; flips < 1 + Math.floor(random() * 4); flips += 1)
            base[Math.floor(random() * base.length)] = Math.floor(random() * 256);
          payloads.push(index % 2 === 0 ? Buffer.concat([seeds[0], base]) : base);
        }
      }
      payloads.push(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      const port = new URL(backend.mqttUrl).port;
      for (let start = 0; start < payloads.length; start += 25) {
        await Promise.all(
          payloads.slice(start, start + 25).map(
            (bytes) =>
              new Promise<void>((resolve) => {
                const socket = tcpConnect(Number(port), '127.0.0.1', () => socket.end(bytes));
                socket.on('error', () => resolve());
                socket.on('close', () => resolve());
                socket.setTimeout(300, () => socket.destroy());
              }),
          ),
        );
      }
      const service = await connectService('faultFeedback');
      await service.subscribeAsync(topics.faults(registered.sn), { qos: 1 });
      const client = await device(registered);
      const arrived = nextMessage(service);
      await client.publishAsync(
        topics.faults(registered.sn),
        JSON.stringify({ reportId: randomUUID(), code: 'E1', severity: 'info', occurredAt: new Date().toISOString() }),
        { qos: 1 },
      );
      await arrived;
      expect((await call('GET', `${backend.brokerHttpUrl}/health`)).status).toBe(200);
      expect(metricValue(await metricsText(), 'mqtt_client_errors_total')).toBeGreaterThan(0);
    });
  });

  describe('TLS listener', () => {
    let tlsBroker: RunningApp;
    let cert: Buffer;
    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'broker-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      cert = readFileSync(join(dir, 'cert.pem'));
      const config = loadConfig({
        env: { NODE_ENV: 'test' },
        overrides: {
          host: '127.0.0.1',
          database: { url: backend.databaseUrl },
          mqtt: { tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } },
        },
      });
      tlsBroker = await startBroker({ config, databaseUrl: backend.databaseUrl, logger: createLogger('silent') });
    });
    afterAll(async () => tlsBroker?.stop());

    it('authenticates a device over TLS with a certificate the test made', async () => {
      const [registered] = await registerDevices(backend, adminToken);
      const url = `mqtts://127.0.0.1:${tlsBroker.ports.mqtts}`;
      const client = track(await connectDevice(url, registered.sn, registered.deviceSecret, { ca: cert, servername: 'localhost' }));
      expect(client.connected).toBe(true);
      await client.publishAsync(topics.status(registered.sn), JSON.stringify({ online: true }), { qos: 1 });
      await expect(connectDevice(url, registered.sn, 'x'.repeat(43), { ca: cert })).rejects.toThrow(/Bad username or password/);
      await expect(connectDevice(url, registered.sn, registered.deviceSecret, { rejectUnauthorized: true })).rejects.toThrow();
    });
  });

  /** A broker of its own, with config/test.yaml's short throttle window and an operator account holding `#` minus a subtree. */
  describe('password guessing and operator deny filters', () => {
    let guard: RunningApp;
    let guardConfig: AppConfig;
    const AUDITOR_PASSWORD = 'auditor-password-for-tests';
    const guardUrl = () => `mqtt://127.0.0.1:${guard.ports.mqtt}`;
    const guardMetrics = async () => (await fetch(`http://127.0.0.1:${guard.ports.http}/metrics`)).text();
    beforeAll(async () => {
      guardConfig = loadConfig({
        env: { NODE_ENV: 'test' },
        overrides: {
          host: '127.0.0.1',
          database: { url: backend.databaseUrl },
          mqtt: {
            operatorAccounts: [
              {
                username: 'auditor',
                passwordHash: await hashServicePassword(AUDITOR_PASSWORD),
                publish: ['#'],
                subscribe: ['#'],
                denyPublish: ['devices/+/faults/ack'],
                denySubscribe: ['devices/+/faults'],
              },
            ],
          },
        },
      });
      guard = await startBroker({ config: guardConfig, databaseUrl: backend.databaseUrl, logger: createLogger('silent') });
    });
    afterAll(async () => guard?.stop());

    it('refuses a device for a while after wrong secrets, even with the right one, then lets it in', async () => {
      const { maxFailuresPerUsername } = guardConfig.mqtt.authThrottle;
      const [target, bystander] = await registerDevices(backend, adminToken, 2);
      for (let attempt = 0; attempt < maxFailuresPerUsername; attempt += 1) {
        await expect(connectDevice(guardUrl(), target.sn, 'x'.repeat(43))).rejects.toThrow(/Bad username or password/);
      }
      const throttledBefore = metricValue(await guardMetrics(), 'mqtt_auth_throttled_total', '{scope="username"}');
      await expect(connectDevice(guardUrl(), target.sn, target.deviceSecret)).rejects.toThrow(/Not authorized/);
      expect(metricValue(await guardMetrics(), 'mqtt_auth_throttled_total', '{scope="username"}')).toBe(throttledBefore + 1);
      expect(metricValue(await guardMetrics(), 'mqtt_auth_failures_total', '{reason="throttled"}')).toBeGreaterThanOrEqual(1);
      // Only that SN: another device from the same address is served.
      track(await connectDevice(guardUrl(), bystander.sn, bystander.deviceSecret));
      // Once the block has passed, the real device connects.
      const client = await eventually(
        () =>
          connectDevice(guardUrl(), target.sn, target.deviceSecret).catch(
            () => new Promise<false>((resolve) => setTimeout(() => resolve(false), 250)),
          ),
        20000,
      );
      expect(track(client).connected).toBe(true);
    });

    it('gives an operator account # minus its denied subtree: SUBACK 128 for the denied part, denied publishes dropped', async () => {
      const [registered] = await registerDevices(backend, adminToken);
      const auditor = track(await connect(guardUrl(), { clientId: 'auditor-e2e', username: 'auditor', password: AUDITOR_PASSWORD }));
      const granted = await auditor
        .subscribeAsync({ [topics.status(registered.sn)]: { qos: 1 }, 'devices/#': { qos: 1 }, [topicPatterns.faults]: { qos: 1 } })
        .catch((error: { packet?: { granted?: number[] } }) => (error.packet?.granted ?? []).map((qos) => ({ qos })));
      expect(granted.map((grant) => grant.qos)).toEqual([1, 128, 128]);
      expect(metricValue(await guardMetrics(), 'mqtt_subscriptions_refused_total', '{reason="denied"}')).toBe(2);

      const appliance = track(await connectDevice(guardUrl(), registered.sn, registered.deviceSecret));
      const status = nextMessage(auditor, (topic) => topic === topics.status(registered.sn));
      await appliance.publishAsync(topics.status(registered.sn), JSON.stringify({ online: true }), { qos: 1 });
      expect(JSON.parse((await status).payload.toString())).toEqual({ online: true });

      let ackArrived = false;
      appliance.on('message', () => (ackArrived = true));
      await appliance.subscribeAsync(topics.faultsAck(registered.sn), { qos: 1 });
      const gone = closed(auditor);
      auditor.publish(topics.faultsAck(registered.sn), JSON.stringify({ reportId: randomUUID(), stored: 'full' }), { qos: 1 });
      await gone;
      expect(metricValue(await guardMetrics(), 'mqtt_messages_dropped_total', '{reason="denied"}')).toBe(1);
      // a round trip through the broker after the refused publish, so a forwarded ack would have arrived
      await appliance.publishAsync(topics.status(registered.sn), JSON.stringify({ online: true }), { qos: 1 });
      expect(ackArrived).toBe(false);
    });
  });
});
