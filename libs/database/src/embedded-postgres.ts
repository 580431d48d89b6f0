import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { serverLayout, type ServerAccount, type ServerLayout } from './embedded-postgres-root.js';

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
 * Starts a real PostgreSQL, with the binaries of the embedded-postgres
 * package, on a free port. The cluster lives in `<dir>/cluster`. PostgreSQL
 * refuses to run as root, so as root the server runs as the `postgres` user
 * (see embedded-postgres-root.ts for how it reaches binaries and data that
 * sit in a folder only root may enter).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const dir = resolve(options.dir);
  const database = options.database ?? 'appliance';
  const log = options.onLog ?? (() => undefined);
  await mkdir(dir, { recursive: true });
  // The server's own user must be able to reach its directory.
  await chmod(dir, 0o755).catch(() => undefined);
  await releaseStaleLock(dir);
  let server: ChildProcess;
  let port: number;
  try {
    const layout = await serverLayout(dir, await packagedBinaries());
    if (!(await exists(join(layout.clusterDir, 'PG_VERSION')))) await initialise(layout, log);
    port = await freePort();
    server = await serve(layout, port, log);
  } catch (error) {
    throw new Error(`Embedded PostgreSQL in ${dir} did not start: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  // A net for an exit that skips stop(): the server must not outlive its owner.
  const stopOnExit = () => server.kill('SIGINT');
  process.once('exit', stopOnExit);
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  await ensureDatabase(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, database);
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    stop() {
      process.removeListener('exit', stopOnExit);
      stopped ??= new Promise<void>((resolveStop) => {
        if (server.exitCode !== null || server.signalCode !== null) return resolveStop();
        server.once('exit', () => resolveStop());
        server.kill('SIGINT'); // "fast" shutdown: sessions end, the cluster is left consistent
      });
      return stopped;
    },
  };
}

/** Where the embedded-postgres package keeps the binaries for this platform (bin/, lib/, share/). */
async function packagedBinaries(): Promise<{ nativeDir: string; version: string }> {
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const { postgres } = (await import(pathToFileURL(entry).href)) as { postgres: string };
  const { version } = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return { nativeDir: dirname(dirname(postgres)), version };
}

async function initialise(layout: ServerLayout, log: (line: string) => void): Promise<void> {
  const { clusterDir, account } = layout;
  // A folder without PG_VERSION is an initialisation that did not finish; initdb wants it empty.
  await rm(clusterDir, { recursive: true, force: true });
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(dirname(clusterDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (account) {
      await chown(clusterDir, account.uid, account.gid);
      await chown(passwordFile, account.uid, account.gid);
    }
    const args = [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8'];
    await runToEnd(join(layout.binDir, 'initdb'), [...args, '--locale=C'], account, log);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function spawnAs(command: string, args: string[], account: ServerAccount | undefined): ChildProcess {
  // LC_MESSAGES=C: readiness is read from the server's own words.
  return spawn(command, args, { ...account, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function runToEnd(command: string, args: string[], account: ServerAccount | undefined, log: (line: string) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawnAs(command, args, account);
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
      log(String(chunk).trim());
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('error', (error) => reject(spawnFailure(command, error)));
    child.once('close', (code) => (code === 0 ? resolveRun() : reject(new Error(`${command} failed: ${lastLine(output)}`))));
  });
}

function serve(layout: ServerLayout, port: number, log: (line: string) => void): Promise<ChildProcess> {
  const args = ['-D', layout.clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  return new Promise((resolveServe, reject) => {
    const command = join(layout.binDir, 'postgres');
    const server = spawnAs(command, args, layout.account);
    let output = '';
    let ready = false;
    server.stdout!.on('data', (chunk: Buffer) => log(String(chunk).trim()));
    server.stderr!.on('data', (chunk: Buffer) => {
      log(String(chunk).trim());
      if (ready) return;
      output += chunk;
      ready = output.includes('database system is ready to accept connections');
      if (ready) resolveServe(server);
    });
    server.on('error', (error) => reject(spawnFailure(command, error)));
    server.once('exit', (code, signal) =>
      reject(new Error(`postgres exited (${signal ?? code}) before it was ready: ${lastLine(output)}`)),
    );
  });
}

function spawnFailure(command: string, error: NodeJS.ErrnoException): Error {
  return new Error(`cannot run ${command} (${error.code ?? error.message})`);
}

function lastLine(output: string): string {
  const lines = output.trim().split('\n').filter(Boolean);
  return lines.length ? lines[lines.length - 1].trim() : 'no output';
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
