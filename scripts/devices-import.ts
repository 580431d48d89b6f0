import 'reflect-metadata';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { DataSource } from 'typeorm';
import { loadConfigOrExit } from '#libs/config';
import { dataSourceOptions, openBackendDatabase } from '#libs/database';
import { CredentialHasher, DeviceRegistry, parseDevicesCsv, validateDeviceRows, type IssuedDevice } from '#libs/devices';
import { DomainError, writeCsv } from '#libs/platform';
import { commandLine, progress as progressOn, usageError } from './cli.js';

// `npm run devices:import -- devices.csv --out labels.csv`: registers a factory batch straight into the
// backend's database (DATABASE_URL, or the embedded PostgreSQL under ./data, running or not) and writes each new device's secret and QR payload to the labels file, the only
// copy there will ever be. SNs already registered are listed on stderr and left untouched.

const usage = 'usage: npm run devices:import -- <devices.csv> --out <labels.csv>';
const { values, positionals } = commandLine(usage, { out: { type: 'string' } }, 1);
const [input] = positionals;
const output = values.out;
if (!input || !output) usageError(usage, input ? 'Missing --out <labels.csv>' : 'Missing the batch file <devices.csv>');

const config = loadConfigOrExit();

const started = Date.now();
let rows;
try {
  rows = validateDeviceRows(parseDevicesCsv(await readFile(input, 'utf8')), 'csv');
} catch (error) {
  fail(error instanceof DomainError ? error.message : `cannot read ${input}: ${String(error)}`);
}

const database = await openBackendDatabase(config);
const dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
const labels = createWriteStream(output, { mode: 0o600 });
labels.write(writeCsv([['sn', 'mac', 'model', 'deviceSecret', 'qr']]));
const registry = new DeviceRegistry(dataSource, new CredentialHasher(config.devices.secretKey), {
  notify: async () => undefined, // new devices have no cached credentials anywhere
});
const progress = progressBar(rows.length);
try {
  const result = await registry.register(rows, {
    chunkSize: 2000,
    onChunk: async (done, total, issued) => {
      await writeLabels(issued);
      progress(done, total);
    },
  });
  await new Promise<void>((resolve, reject) => labels.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  progress(rows.length, rows.length, true);
  process.stderr.write(`registered ${result.issued.length} device(s) in ${seconds}s; labels in ${output}\n`);
  if (result.alreadyRegistered.length) {
    process.stderr.write(
      `${result.alreadyRegistered.length} SN(s) already registered, left unchanged: ${preview(result.alreadyRegistered)}\n`,
    );
  }
  if (result.duplicatesInBatch.length) {
    process.stderr.write(
      `${result.duplicatesInBatch.length} SN(s) repeated in the file, first occurrence used: ${preview(result.duplicatesInBatch)}\n`,
    );
  }
} finally {
  await dataSource.destroy();
  await database.release();
}

function writeLabels(issued: IssuedDevice[]): Promise<void> {
  if (issued.length === 0) return Promise.resolve();
  const text = writeCsv(issued.map((device) => [device.sn, device.mac, device.model, device.deviceSecret, device.qr]));
  return new Promise((resolve) => (labels.write(text) ? resolve() : labels.once('drain', () => resolve())));
}

function preview(sns: string[]): string {
  return sns.slice(0, 10).join(', ') + (sns.length > 10 ? `, … (${sns.length - 10} more)` : '');
}

/** A bar on a terminal (redrawn in place), plain periodic lines elsewhere (see cli.ts). */
function progressBar(total: number): (done: number, all: number, final?: boolean) => void {
  const shown = progressOn();
  return (done, all, final = false) => {
    const width = 30;
    const filled = Math.round((done / Math.max(all, 1)) * width);
    const rate = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${rate}/s)`;
    if (final) shown.done(line);
    else shown.update(line);
  };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
