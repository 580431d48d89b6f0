import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, validateConfig } from '#libs/config';
import { ensureDatabase } from '#libs/database';
import { createLogger, type RunningApp } from '#libs/platform';
import { startFaultFeedback } from '../../apps/fault-feedback/src/fault-feedback.app.js';
import { startBackend, type RunningBackend } from '../../scripts/backend.js';

/** One query on the suite's database over a connection of its own, for what no API shows. */
export async function sql<T = Record<string, unknown>>(
  backend: { databaseUrl: string },
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: backend.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface TestBackend {
  backend: RunningBackend;
  provisioningUrl: string;
  faultsUrl: string;
  brokerHttpUrl: string;
  mqttUrl: string;
  databaseUrl: string;
  outboxPath: string;
  dataDir: string;
  /** The last code the outbox driver "sent" to this phone. */
  lastCode(phone: string): Promise<string>;
  /** Stops only the fault-feedback app (its broker session stays, as in a restart). */
  stopFaultFeedback(): Promise<void>;
  /** Starts fault-feedback again on the same port and config; `databaseUrl` points it elsewhere (e.g. through a proxy). */
  startFaultFeedback(options?: { databaseUrl?: string }): Promise<void>;
  stop(): Promise<void>;
}

/** A fresh database on the run's PostgreSQL, with a URL for it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_PG_ADMIN_URL;
  if (!adminUrl) throw new Error('TEST_PG_ADMIN_URL is missing: run the suites through jest (globalSetup)');
  const name = `t_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(adminUrl, name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Boots the real backend (broker, provisioning, fault-feedback) on free ports against its own database. */
export async function startTestBackend(overrides: Record<string, unknown> = {}): Promise<TestBackend> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'appliance-test-'));
  const outboxPath = join(dataDir, 'sms-outbox.jsonl');
  const config = loadConfig({
    env: { NODE_ENV: 'test' },
    overrides: deepMerge({ dataDir, database: { url: database.url }, sms: { driver: 'outbox', outbox: outboxPath } }, overrides),
  });
  const logger = createLogger(config.log.level, 'test');
  const backend = await startBackend(config, logger);
  // The running fault-feedback is swapped in place, so backend.stop() stops whichever one runs.
  const faultFeedback = backend.faultFeedback;
  const firstStop = faultFeedback.stop.bind(faultFeedback);
  let current: RunningApp | undefined = faultFeedback;
  const faultsPort = faultFeedback.ports.http;
  const stopFaultFeedback = async () => {
    const running = current;
    current = undefined;
    await (running === faultFeedback ? firstStop() : running?.stop());
  };
  faultFeedback.stop = stopFaultFeedback;
  return {
    backend,
    provisioningUrl: `http://127.0.0.1:${backend.provisioning.ports.http}`,
    faultsUrl: `http://127.0.0.1:${backend.faultFeedback.ports.http}`,
    brokerHttpUrl: `http://127.0.0.1:${backend.broker.ports.http}`,
    mqttUrl: `mqtt://127.0.0.1:${backend.broker.ports.mqtt}`,
    databaseUrl: database.url,
    outboxPath,
    dataDir,
    async lastCode(phone: string) {
      const lines = (await readFile(outboxPath, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
      const messages = lines.map((line) => JSON.parse(line) as { to: string; code: string; at: string });
      const message = messages.reverse().find((entry) => entry.to === phone);
      if (!message) throw new Error(`no SMS was sent to ${phone}`);
      return message.code;
    },
    stopFaultFeedback,
    async startFaultFeedback(options = {}) {
      if (current) throw new Error('fault-feedback is already running');
      const faultsConfig = validateConfig({
        ...structuredClone(backend.config),
        ports: { ...backend.config.ports, faultsHttp: faultsPort, provisioningHttp: backend.provisioning.ports.http },
      } as unknown as Record<string, unknown>);
      current = await startFaultFeedback({
        config: faultsConfig,
        databaseUrl: options.databaseUrl ?? database.url,
        logger,
        deviceMessages: backend.deviceMessages,
      });
    },
    async stop() {
      await backend.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      current && value && typeof current === 'object' && typeof value === 'object' && !Array.isArray(value)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
