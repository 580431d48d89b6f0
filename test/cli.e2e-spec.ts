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
    // 'close', not 'exit': only then has everything the tool wrote been read from its pipes.
    child.once('close', (code) => resolve({ code, stdout, stderr }));
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

  it('the simulator takes a secret that starts with a dash as the value of --secret (one base64url secret in 64 does)', async () => {
    const sn = newSn('DASH');
    const simulated = await run('device-sim', ['--sn', sn, '--secret', '-Jg-not-its-secret', '--url', backend.mqttUrl, '--status']);
    // The broker heard the secret and refused it (no such device); before, the tool stopped at its arguments.
    expect(simulated.stderr).not.toContain('ambiguous');
    expect(simulated.code).toBe(1);
    expect(
      simulated.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([expect.objectContaining({ sn, event: 'refused' })]);
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
    // stderr is a pipe here, as in CI: plain lines, no bar redrawn with \r.
    expect(imported.stderr).toContain(`[${'#'.repeat(30)}] ${devices.length}/${devices.length}`);
    expect(controlCharacters(imported.stderr)).toEqual([]);

    const [header, ...records] = readCsv(await readFile(labels, 'utf8'));
    expect(header).toEqual(['sn', 'mac', 'model', 'deviceSecret', 'qr']);
    expect(records.map(([sn, mac, model]) => ({ sn, mac, model }))).toEqual(devices);

    // The simulator reads the same file and every device gets in with its own secret.
    const simulated = await run('device-sim', ['--labels', labels, '--url', backend.mqttUrl, '--status']);
    expect(simulated.stderr).toContain(`connected ${devices.length}/${devices.length}`);
    expect(simulated.code).toBe(0);
    expect(controlCharacters(simulated.stderr)).toEqual([]);
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

    // On a terminal (script(1) gives it one) the same run redraws its progress line in place.
    const onTerminal = await inTerminal(
      `${shellQuote(process.execPath)} ${shellQuote(script('device-sim'))} --labels ${shellQuote(labels)} --url ${backend.mqttUrl}`,
    );
    expect(onTerminal.code).toBe(0);
    expect(onTerminal.output).toContain(`\r\x1b[Kconnected ${devices.length}/${devices.length}`);
  });
});

const CLIS = [
  'devices-import',
  'device-sim',
  'mqtt-hash-password',
  'privacy-datamap',
  'privacy-retention',
  'privacy-verify-ledger',
  'migrate',
  'start',
];

describe('command-line arguments', () => {
  it.each(CLIS)('%s refuses an unknown flag with the reason and its usage line, exit code 2', async (name) => {
    const result = await run(name, ['--no-such-flag']);
    expect(result.code).toBe(2);
    const [reason, usage] = result.stderr.split('\n');
    expect(reason).toContain("Unknown option '--no-such-flag'");
    expect(usage).toMatch(/^usage: npm (run [a-z:-]+|start)/);
    expect(result.stdout).toBe('');
  });

  it.each(['devices-import', 'device-sim'])('%s --help prints its usage and exits 0', async (name) => {
    const result = await run(name, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm (run [a-z:-]+|start)/);
  });

  it('says what is missing, with the usage', async () => {
    const result = await run('devices-import', ['batch.csv']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('Missing --out <labels.csv>\nusage: npm run devices:import -- <devices.csv> --out <labels.csv>\n');
    const extra = await run('devices-import', ['a.csv', 'b.csv', '--out', 'l.csv']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("Unexpected argument 'b.csv'");
  });
});

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command on a pseudo-terminal (util-linux script), as someone at a terminal would. */
function inTerminal(command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', TERM: 'xterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Carriage returns and escape sequences: what a progress line redrawn in place leaves in a log. */
function controlCharacters(text: string): string[] {
  return [...text].filter((char) => char === '\r' || char === '\u001b');
}
