import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt';
import { eventually } from './factories/devices.js';
import { removeDataFolder } from './support/data-folder.js';
import { call } from './support/http.js';

/**
 * `npm start` as a newcomer runs it: the compiled launcher, no DATABASE_URL,
 * so the embedded PostgreSQL under the data folder. (`npm test` builds first.)
 * The checkout it runs from sits in a folder only its owner may enter (0700,
 * like /root/app or a `mktemp -d` folder): as root, PostgreSQL's own user can
 * reach neither the binaries in node_modules nor ./data there.
 */
const isRoot = process.getuid?.() === 0;
let appDir: string;
let launcher: string;

/** A copy of the built checkout (hard links, so it is quick) in a new private folder. */
async function privateCheckout(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'appliance-private-'));
  expect((await stat(folder)).mode & 0o777).toBe(0o700);
  const app = join(folder, 'app');
  await mkdir(app);
  const parts = ['dist', 'node_modules', 'config', 'package.json'].map((part) => join(process.cwd(), part));
  await promisify(execFile)('cp', ['-al', ...parts, app]).catch(() => promisify(execFile)('cp', ['-a', ...parts, app]));
  return app;
}

interface Started {
  child: ChildProcess;
  ports: { mqtt: number; broker: number; provisioning: number; faultFeedback: number };
  /** The backend's own process (the launcher's, or under npm the one npm's shell started). */
  pid: number;
  stderr: () => string;
}

function environment(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.NODE_OPTIONS;
  return {
    ...env,
    MQTT_PORT: '0',
    BROKER_HTTP_PORT: '0',
    PROVISIONING_HTTP_PORT: '0',
    FAULTS_HTTP_PORT: '0',
    SMS_OUTBOX: join(dataDir, 'sms-outbox.jsonl'),
    ...extra,
  };
}

function launch(dataDir: string, extra: Record<string, string> = {}, command = [process.execPath, launcher]): Promise<Started> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command;
    const child = spawn(file, args, { cwd: appDir, env: environment(dataDir, extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      for (const line of stdout.split('\n')) {
        if (!line.includes('"msg":"ready')) continue;
        const ready = JSON.parse(line);
        resolve({ child, ports: ready, pid: ready.pid, stderr: () => stderr });
      }
    });
    child.once('exit', (code) => reject(new Error(`launcher exited with ${code} before it was ready: ${stderr}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

function runToExit(
  dataDir: string,
  extra: Record<string, string>,
  script: string = launcher,
  args: string[] = [],
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: appDir,
    env: environment(dataDir, extra),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return exitOf(child).then((code) => ({ code, stderr }));
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const content = await readFile(join(dataDir, 'pg', 'cluster', 'postmaster.pid'), 'utf8').catch(() => undefined);
  return content ? Number(content.split('\n')[0]) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function signIn(port: number, dataDir: string, phone: string) {
  const url = `http://127.0.0.1:${port}`;
  expect((await call('POST', `${url}/v1/auth/otp`, { body: { phone } })).status).toBe(202);
  const lines = (await readFile(join(dataDir, 'sms-outbox.jsonl'), 'utf8')).trim().split('\n');
  const { code } = JSON.parse(lines[lines.length - 1]);
  const login = await call('POST', `${url}/v1/auth/login`, { body: { phone, code } });
  expect(login.status).toBe(200);
  return login.body.user.id as string;
}

describe(`npm start on a bare machine, from a private folder${isRoot ? ' as root' : ''}`, () => {
  let dataDir: string;

  beforeAll(async () => {
    expect(existsSync(join(process.cwd(), 'dist/scripts/start.js'))).toBe(true);
    appDir = await privateCheckout();
    launcher = join(appDir, 'dist/scripts/start.js');
    dataDir = join(appDir, 'data');
  });
  afterAll(async () => {
    await removeDataFolder(dataDir);
    await rm(join(appDir, '..'), { recursive: true, force: true });
  });

  it('starts embedded PostgreSQL and the three apps, stops all of it on Ctrl-C, and reuses the data next time', async () => {
    const first = await launch(dataDir);
    const { provisioning, faultFeedback, broker } = first.ports;
    for (const port of [provisioning, faultFeedback, broker]) {
      const health = await call('GET', `http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
    }
    // The services of the process publish through its broker, not over MQTT connections to it.
    const brokerMetrics = await call('GET', `http://127.0.0.1:${broker}/metrics`);
    expect(String(brokerMetrics.body)).toMatch(/^mqtt_connected_clients 0$/m);
    const phone = '+8613812345678';
    const userId = await signIn(provisioning, dataDir, phone);
    const pid = await postmasterPid(dataDir);
    expect(pid && isAlive(pid)).toBe(true);

    first.child.kill('SIGINT');
    expect(await exitOf(first.child)).toBe(0);
    expect(isAlive(pid!)).toBe(false);

    const second = await launch(dataDir);
    try {
      expect(await signIn(second.ports.provisioning, dataDir, phone)).toBe(userId);
    } finally {
      second.child.kill('SIGINT');
      expect(await exitOf(second.child)).toBe(0);
    }
  });

  it('stops all of it, PostgreSQL included, when the npm running it is told to stop (its SIGTERM reaches only its shell)', async () => {
    // As a process manager or `kill $!` in a script does it. npm start --ignore-scripts: the start script, without prestart's build.
    const started = await launch(dataDir, {}, ['npm', 'start', '--ignore-scripts', '--silent']);
    const postmaster = await postmasterPid(dataDir);
    expect(postmaster && isAlive(postmaster)).toBe(true);
    expect(started.pid).not.toBe(started.child.pid);
    try {
      started.child.kill('SIGTERM');
      await exitOf(started.child);
      await eventually(async () => !isAlive(started.pid) && !isAlive(postmaster!), 20_000);
    } finally {
      if (isAlive(started.pid)) process.kill(started.pid, 'SIGINT');
    }
  });

  it('imports a factory batch into the running backend, whose broker then admits the devices, and again with it stopped', async () => {
    const importer = join(appDir, 'dist/scripts/devices-import.js');
    const batch = join(dataDir, 'devices.csv');
    const labels = join(dataDir, 'labels.csv');
    const sns = Array.from({ length: 50 }, (_, index) => `IMPORT-${process.pid}-${index}`);
    await writeFile(
      batch,
      ['sn,mac,model', ...sns.map((sn, index) => `${sn},00:11:22:33:44:${index.toString(16).padStart(2, '0')},HEATER-H2`)].join('\n'),
    );

    const running = await launch(dataDir);
    try {
      const imported = await runToExit(dataDir, {}, importer, [batch, '--out', labels]);
      expect(imported.code).toBe(0);
      expect(imported.stderr).toContain('registered 50 device(s)');
      const rows = (await readFile(labels, 'utf8')).trim().split('\n');
      expect(rows[0]).toBe('sn,mac,model,deviceSecret,qr');
      expect(rows).toHaveLength(51);
      const [sn, , , secret] = rows[1].split(',');
      const appliance = await mqtt.connectAsync(`mqtt://127.0.0.1:${running.ports.mqtt}`, {
        clientId: sn,
        username: sn,
        password: secret,
        reconnectPeriod: 0,
      });
      expect(appliance.connected).toBe(true);
      await appliance.endAsync();
    } finally {
      running.child.kill('SIGINT');
      expect(await exitOf(running.child)).toBe(0);
    }

    const again = await runToExit(dataDir, {}, importer, [batch, '--out', join(dataDir, 'labels-2.csv')]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('50 SN(s) already registered');
    const pid = await postmasterPid(dataDir);
    expect(pid === undefined || !isAlive(pid)).toBe(true);
  });

  it('stops with one line naming the port and its variable when a port is taken, leaving nothing running', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const result = await runToExit(dataDir, { PROVISIONING_HTTP_PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `Port ${port} is already in use; set PROVISIONING_HTTP_PORT to another port (0 picks a free one).`,
      ]);
      const pid = await postmasterPid(dataDir);
      expect(pid === undefined || !isAlive(pid)).toBe(true);
    } finally {
      blocker.close();
    }
  });

  (isRoot ? it : it.skip)(
    'as root, names the cause and the fix in one line when a folder above an existing cluster turns private',
    async () => {
      const parent = await mkdtemp(join(tmpdir(), 'appliance-turned-private-'));
      await chmod(parent, 0o755);
      const movedData = join(parent, 'data');
      try {
        const first = await launch(movedData);
        first.child.kill('SIGINT');
        expect(await exitOf(first.child)).toBe(0);
        await chmod(parent, 0o700);
        const result = await runToExit(movedData, {});
        expect(result.code).toBe(1);
        const lines = result.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`user postgres can no longer reach the cluster in ${join(movedData, 'pg', 'cluster')}`);
        expect(lines[0]).toContain('DATABASE_URL');
      } finally {
        await removeDataFolder(movedData);
        await rm(parent, { recursive: true, force: true });
      }
    },
  );

  it('refuses a bad setting with a message naming it', async () => {
    const result = await runToExit(dataDir, { MQTT_PORT: 'eighteen' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ports.mqtt (env MQTT_PORT)');
  });
});
