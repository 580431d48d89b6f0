import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { generate } from 'mqtt-packet';
import { loadConfig, type AppConfig } from '#libs/config';
import { dataSourceOptions, runMigrations, startEmbeddedPostgres } from '#libs/database';
import { CredentialHasher, DeviceRegistry, type IssuedDevice } from '#libs/devices';

// What the bench sections share: a throw-away database, bench devices, worker processes, small helpers.

/**
 * DATABASE_URL if set (migrated, left in place), else an embedded PostgreSQL in a temporary
 * directory that close() removes. `leftBehind` says what a section writes into a configured database.
 */
export async function openDatabase(leftBehind: string): Promise<{ url: string; close(): Promise<void> }> {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    process.stderr.write(`bench: using DATABASE_URL (${leftBehind})\n`);
    await runMigrations(configured);
    return { url: configured, close: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-pg-'));
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres({ dir: join(dir, 'pg'), database: 'bench' });
  await runMigrations(embedded.url);
  return {
    url: embedded.url,
    close: async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers `count` devices through the real registry. Each section has its own series, so
 * several sections can share one DATABASE_URL: SNs `<snPrefix>-<run>-<n>`, MACs `<macPrefix>:..`.
 */
export async function registerDevices(
  url: string,
  count: number,
  series: { snPrefix: string; macPrefix: string; model?: string; firmware?: string },
): Promise<IssuedDevice[]> {
  const config = loadConfig({ env: { NODE_ENV: 'test' } });
  const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
  try {
    const registry = new DeviceRegistry(dataSource, new CredentialHasher(config.devices.secretKey), { notify: async () => undefined });
    const run = Date.now().toString(36).toUpperCase();
    const rows = Array.from({ length: count }, (_, index) => ({
      sn: `${series.snPrefix}-${run}-${index}`,
      mac: `${series.macPrefix}:${index.toString(16).padStart(8, '0').toUpperCase().match(/../g)!.join(':')}`,
      model: series.model ?? 'BENCH',
      firmware: series.firmware ?? null,
    }));
    return (await registry.register(rows, { chunkSize: 2000 })).issued;
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Forks one of the bench's worker scripts (a file next to this one) and waits for its first
 * message, which each worker sends once started (its ports, or that it is ready).
 */
export async function startWorker<Message>(
  script: string,
  args: string[],
  options: { execArgv?: string[] } = {},
): Promise<{ child: ChildProcess; message: Message }> {
  const path = join(dirname(fileURLToPath(import.meta.url)), script);
  const child = fork(path, args, {
    ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  const message = await new Promise<Message>((resolve, reject) => {
    child.once('message', (first: Message) => resolve(first));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, message };
}

/** startWorker's options for a worker that writes a CPU profile (`node --cpu-prof`) into `dir`, when one is given. */
export function profiledInto(dir: string | undefined): { execArgv?: string[] } {
  return dir ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] } : {};
}

/** Asks a worker to stop and waits for it to exit; kills it if it has not after `killAfterMs`. */
export function stopWorker(child: ChildProcess, killAfterMs = 15000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send('stop');
  });
}

/** Runs `work` over `items`, at most `concurrency` at once. */
export async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/** The p-th percentile (nearest rank) of ascending `sorted`; undefined when it is empty. */
export function percentile(sorted: number[], p: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One query on a connection of its own. */
export async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Signs a phone in through the API, reading the code from the outbox of a backend whose data is in `dataDir`. */
export async function signIn(http: string, dataDir: string, phone: string): Promise<string> {
  const post = (path: string, body: unknown) =>
    fetch(`${http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await post('/v1/auth/otp', { phone });
  const lines = (await readFile(join(dataDir, 'sms-outbox.jsonl'), 'utf8')).trim().split('\n');
  const code = lines
    .map((line) => JSON.parse(line) as { to: string; code: string })
    .reverse()
    .find((message) => message.to === phone)!.code;
  const login = (await (await post('/v1/auth/login', { phone, code })).json()) as { accessToken: string };
  return login.accessToken;
}

/** The whole backend's configuration in a bench worker: silent, on 127.0.0.1, the outbox SMS driver, `adminPhone` an admin. */
export function benchBackendConfig(
  databaseUrl: string,
  dataDir: string,
  adminPhone: string,
  overrides: Record<string, unknown> = {},
): AppConfig {
  return loadConfig({
    env: { NODE_ENV: 'test' },
    overrides: {
      host: '127.0.0.1',
      dataDir,
      database: { url: databaseUrl },
      log: { level: 'silent' },
      sms: { driver: 'outbox', outbox: `${dataDir}/sms-outbox.jsonl` },
      auth: { adminPhones: [adminPhone], otp: { perIpPerHour: 100000, perPhonePerHour: 100000 } },
      ...overrides,
    },
  });
}

/** A device's CONNECT packet (MQTT 3.1.1, clean session, no keepalive), ready to write to a raw socket. */
export function connectPacket(device: Pick<IssuedDevice, 'sn' | 'deviceSecret'>): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 0,
    clientId: device.sn,
    username: device.sn,
    password: Buffer.from(device.deviceSecret),
  });
}

/**
 * One owner per device; every other owner grants `purpose`. Written straight into a throw-away
 * database (accounts, the consent state the writer reads, bindings): sections measure ingestion,
 * not sign-up. Answers the owners' ids, in device order.
 */
export async function createOwners(url: string, devices: ReadonlyArray<{ sn: string }>, purpose: string): Promise<string[]> {
  const ids = await sql<{ id: string }>(url, `INSERT INTO users (roles) SELECT '{user}' FROM generate_series(1, $1) RETURNING id`, [
    devices.length,
  ]);
  const owners = ids.map((row) => row.id);
  await sql(
    url,
    `INSERT INTO consent_state (subject_id, purpose, granted, policy_version, at, event_seq)
     SELECT id, 'service', true, '2020-01', now(), 1 FROM unnest($1::uuid[]) AS id
     UNION ALL
     SELECT id, $2, true, '2020-01', now(), 2 FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, n) WHERE n % 2 = 0`,
    [owners, purpose],
  );
  await sql(url, `INSERT INTO device_bindings (sn, owner_id) SELECT * FROM unnest($1::varchar[], $2::uuid[])`, [
    devices.map((device) => device.sn),
    owners,
  ]);
  return owners;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/<pid>/stat after the command name (state, parent pid, ...; Linux), or undefined when the process is gone. */
function procStat(pid: string | number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user and system) a process has used, from its stat fields. */
function cpuSeconds(fields: string[] | undefined): number | undefined {
  return fields ? (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS : undefined;
}

/**
 * CPU seconds used so far by this process, by each named worker, and by
 * PostgreSQL; with `rabbitMq`, also by the machine's RabbitMQ (its Erlang VM).
 * Linux; undefined elsewhere.
 */
export function cpuSample(workers: Record<string, ChildProcess>, options: { rabbitMq?: boolean } = {}): Record<string, number> | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const usage = process.cpuUsage();
  const sample: Record<string, number> = { 'load generator': (usage.user + usage.system) / 1e6 };
  for (const [name, child] of Object.entries(workers)) sample[name] = cpuSeconds(procStat(child.pid ?? -1)) ?? NaN;
  const processes = processesNamed(options.rabbitMq ? ['postgres', 'beam.smp'] : ['postgres']);
  // The embedded server (this process's child) and its backends; with DATABASE_URL, every PostgreSQL process here.
  const servers = processes.filter(([, name]) => name === 'postgres');
  const parentOf = (fields: string[]) => fields[1];
  const own = servers.filter(([, , fields]) => parentOf(fields) === String(process.pid)).map(([pid]) => pid);
  const counted = own.length ? servers.filter(([pid, , fields]) => own.includes(pid) || own.includes(parentOf(fields))) : servers;
  sample.PostgreSQL = totalCpuSeconds(counted);
  if (options.rabbitMq) sample.RabbitMQ = totalCpuSeconds(processes.filter(([, name]) => name === 'beam.smp'));
  return sample;
}

function totalCpuSeconds(processes: ReadonlyArray<[pid: string, name: string, fields: string[]]>): number {
  return processes.reduce((sum, [, , fields]) => sum + (cpuSeconds(fields) ?? 0), 0);
}

/** [pid, name, /proc/<pid>/stat fields] of every process whose name is one of `names`. */
function processesNamed(names: string[]): Array<[string, string, string[]]> {
  const found: Array<[string, string, string[]]> = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (!names.includes(name)) continue;
    const fields = procStat(pid);
    if (fields) found.push([pid, name, fields]);
  }
  return found;
}

/** What each part used between two samples, in CPU microseconds per unit of work (a reading, a message). */
export function cpuPerUnit(
  before: Record<string, number> | undefined,
  after: Record<string, number> | undefined,
  units: number,
): Array<[string, number]> {
  if (!before || !after) return [];
  return Object.keys(after).map((name) => [name, ((after[name] - before[name]) * 1e6) / units]);
}
