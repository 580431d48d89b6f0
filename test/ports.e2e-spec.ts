import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { removeDataFolder } from './support/data-folder.js';

/**
 * What `npm start` exposes: the launcher's process listens on exactly the
 * contract's ports (MQTT, the broker's HTTP, provisioning, fault-feedback),
 * and the embedded PostgreSQL it starts listens on the loopback address only.
 * Sockets are read from /proc, as `ss -ltnp` would: the pid's socket inodes
 * (/proc/<pid>/fd) matched against /proc/net/tcp and tcp6 in state LISTEN.
 */
interface Listening {
  address: string;
  port: number;
}

/** /proc/net/tcp* addresses: little-endian hex words. */
function decodeAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
  const groups = words
    .join('')
    .match(/.{4}/g)!
    .map((group) => group.replace(/^0+(?=.)/, ''));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

async function listeningSocketsOf(pid: number): Promise<Listening[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]);
  }
  const found: Listening[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A' || !inodes.has(fields[9])) continue;
      const [address, port] = fields[1].split(':');
      found.push({ address: decodeAddress(address), port: parseInt(port, 16) });
    }
  }
  return found.sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
}

function launch(dataDir: string): Promise<{ child: ChildProcess; ports: Record<string, number> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.EVENT_BUS_URL;
  delete env.NODE_OPTIONS;
  Object.assign(env, { MQTT_PORT: '0', BROKER_HTTP_PORT: '0', PROVISIONING_HTTP_PORT: '0', FAULTS_HTTP_PORT: '0' });
  env.SMS_OUTBOX = join(dataDir, 'sms-outbox.jsonl');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/scripts/start.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((candidate) => candidate.includes('"msg":"ready'));
      if (line) resolve({ child, ports: JSON.parse(line) });
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before it was ready: ${stderr}`)));
  });
}

const parentOf = async (pid: number) => Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')[1]);

describe('listening ports of npm start', () => {
  let dataDir: string;
  let started: { child: ChildProcess; ports: Record<string, number> };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'appliance-ports-'));
    started = await launch(dataDir);
  });
  afterAll(async () => {
    if (started && started.child.exitCode === null) {
      const exited = new Promise((resolve) => started.child.once('exit', resolve));
      started.child.kill('SIGINT');
      await exited;
    }
    // As root the cluster lives outside the data folder (README, "As root"): it goes too.
    await removeDataFolder(dataDir);
  });

  it('listens on the four documented ports and nothing else', async () => {
    const { mqtt, broker, provisioning, faultFeedback } = started.ports;
    const ports = [...new Set((await listeningSocketsOf(started.child.pid!)).map((socket) => socket.port))].sort((a, b) => a - b);
    expect(ports).toEqual([mqtt, broker, provisioning, faultFeedback].sort((a, b) => a - b));
  });

  it("the embedded PostgreSQL is the launcher's own and listens on 127.0.0.1 only", async () => {
    const pid = Number((await readFile(join(dataDir, 'pg', 'cluster', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    // Started by the launcher, directly or through the helper that drops root to the postgres user.
    let ancestor = await parentOf(pid);
    const chain = [ancestor];
    while (ancestor > 1 && ancestor !== started.child.pid) chain.push((ancestor = await parentOf(ancestor)));
    expect(chain).toContain(started.child.pid);
    const sockets = await listeningSocketsOf(pid);
    expect(sockets.length).toBeGreaterThan(0);
    expect(sockets.map((socket) => socket.address)).toEqual(sockets.map(() => '127.0.0.1'));
  });
});
