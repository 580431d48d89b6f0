import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readCsv } from '#libs/platform';
import { parseLabels } from '../scripts/device-simulator.js';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { connectDevice, newMac, newSn } from './factories/devices.js';

/** The compiled command-line tools, run as `npm run …` runs them (`npm test` builds first). */
const script = (name: string) => join(process.cwd(), 'dist/scripts', `${name}.js`);

function run(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script(name), ...args], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A field quoted the way spreadsheets quote it. */
const quoted = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

describe('command-line tools against the running backend', () => {
  let backend: TestBackend;
  let dir: string;

  beforeAll(async () => {
    backend = await startTestBackend();
    dir = await mkdtemp(join(tmpdir(), 'appliance-cli-'));
  });
  afterAll(async () => {
    await backend?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a batch with commas, quotes, a BOM and CRLF goes through devices:import and its labels into the simulator, each device with its own secret', async () => {
    const models = ['Purifier, "X1" 3000', 'Heater "H2"', 'Plain', '"Quoted", twice, "here"'];
    const devices = models.map((model) => ({ sn: newSn('CSV'), mac: newMac(), model }));
    const batch = join(dir, 'batch.csv');
    // As a spreadsheet saves it: byte-order mark, CRLF line ends, a blank line, columns in its own order.
    await writeFile(
      batch,
      `\uFEFFmodel,sn,mac\r\n${devices.map((device) => [quoted(device.model), device.sn, device.mac].join(',')).join('\r\n')}\r\n\r\n`,
    );
    const labels = join(dir, 'labels.csv');

    const imported = await run('devices-import', [batch, '--out', labels], { DATABASE_URL: backend.databaseUrl });
    expect(imported.stderr).toContain(`registered ${devices.length} device(s)`);
    expect(imported.code).toBe(0);

    const [header, ...records] = readCsv(await readFile(labels, 'utf8'));
    expect(header).toEqual(['sn', 'mac', 'model', 'deviceSecret', 'qr']);
    expect(records.map(([sn, mac, model]) => ({ sn, mac, model }))).toEqual(devices);

    // The simulator reads the same file and every device gets in with its own secret.
    const simulated = await run('device-sim', ['--labels', labels, '--url', backend.mqttUrl, '--status']);
    expect(simulated.stderr).toContain(`connected ${devices.length}/${devices.length}`);
    expect(simulated.code).toBe(0);
    const events = simulated.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { sn: string; event: string });
    expect(events.filter((event) => event.event === 'status').map((event) => event.sn)).toEqual(
      expect.arrayContaining(devices.map((device) => device.sn)),
    );
    expect(events.filter((event) => event.event === 'refused')).toEqual([]);
    const [first] = parseLabels(await readFile(labels, 'utf8'));
    const appliance = await connectDevice(backend.mqttUrl, first.sn, first.secret);
    await appliance.endAsync();
  });
});
