import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { loadConfig } from '#libs/config';
import { runMigrations } from '#libs/database';
import { createLogger, type RunningApp } from '#libs/platform';
import { eventually } from './factories/devices.js';
import { createTestDatabase, sql } from './support/backend.js';

/**
 * Without EVENT_BUS_URL a service consumes device messages over MQTT with a
 * fixed client id, so only one process of it may run: a second one is
 * refused at boot with one line saying why, instead of the two taking each
 * other's MQTT session. The compiled apps, as `npm run start:fault-feedback`
 * runs them (`npm test` builds first).
 */
describe('one consumer per service without a message bus', () => {
  let database: { url: string; drop(): Promise<void> };
  let broker: RunningApp;
  const children: ChildProcess[] = [];
  const script = join(process.cwd(), 'dist/apps/fault-feedback/src/main.js');

  beforeAll(async () => {
    expect(existsSync(script)).toBe(true);
    database = await createTestDatabase();
    await runMigrations(database.url);
    const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { host: '127.0.0.1', database: { url: database.url } } });
    broker = await startBroker({ config, databaseUrl: database.url, logger: createLogger('silent') });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await broker?.stop();
    await database?.drop();
  });

  function start(extra: Record<string, string> = {}) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.REDIS_URL;
    delete env.EVENT_BUS_URL;
    const child = spawn(process.execPath, [script], {
      env: {
        ...env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: database.url,
        MQTT_URL: `mqtt://127.0.0.1:${broker.ports.mqtt}`,
        FAULTS_HTTP_PORT: '0',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ready = new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', () => {
        const port = /fault-feedback listening on http:\/\/[^:]+:(\d+)/.exec(stdout)?.[1];
        if (port && stdout.includes('fault-feedback ready')) resolve(Number(port));
      });
      void exited.then((code) => reject(new Error(`fault-feedback exited with ${code}: ${stderr}`)));
    });
    ready.catch(() => undefined); // awaited only by the tests that expect it to start
    return { child, ready, exited, stderr: () => stderr };
  }

  it('refuses a second fault-feedback with one line; the first keeps consuming, its /health covering the consumer', async () => {
    const first = start();
    const port = await first.ready;

    const second = start();
    expect(await second.exited).toBe(1);
    expect(second.stderr().trim()).toBe(
      'another fault-feedback is already consuming device messages; set EVENT_BUS_URL to run several replicas',
    );

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { checks: Record<string, string> }).checks).toMatchObject({ mqtt: 'up', consumer: 'up' });

    // /health covers the consumer: with its lock's connection gone it is down until the lock is taken again.
    await sql(
      { databaseUrl: database.url },
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '%(single consumer)'",
    );
    const checks = async () => {
      const answer = await fetch(`http://127.0.0.1:${port}/health`);
      return { status: answer.status, checks: ((await answer.json()) as { checks: Record<string, string> }).checks };
    };
    expect(await eventually(async () => ((await checks()).status === 503 ? checks() : undefined))).toMatchObject({
      checks: { consumer: 'down' },
    });
    await eventually(async () => (await checks()).status === 200, 10_000);

    // Once the first one has stopped, its place is free again.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const third = start();
    await third.ready;
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('stops at boot, naming MQTT_URL, when the list of broker nodes is not one it can use', async () => {
    for (const value of ['mqtt://a:p1,mqtt://b:p2', 'tcp://broker-1:1883']) {
      const app = start({ MQTT_URL: value });
      expect(await app.exited).toBe(1);
      expect(app.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: mqtt\.url \(env MQTT_URL\): /)]);
    }
  });
});
