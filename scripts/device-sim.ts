import { readFile } from 'node:fs/promises';
import { FAULT_SEVERITIES } from '#libs/mqtt-contract';
import { stopWhenNpmIsGone } from '#libs/platform';
import { commandLine, progress, usageError } from './cli.js';
import { parseLabels, parseTokens, simulate, type SimulatedDevice, type SimulationProgress } from './device-simulator.js';
import { otaOptions } from './simulator/ota-options.js';
import { STATE_BEHAVIOURS, type StateBehaviour } from './simulator/state.js';
import { DEFAULT_TELEMETRY_POINTS } from './simulator/telemetry.js';

// `npm run device:sim -- ...`: plays one or many appliances against the broker with their own
// credentials. Results go to stdout as JSON lines, progress to stderr. See README, "Pairing an appliance".

const usage = `usage: npm run device:sim -- (--sn <SN> --secret <secret> | --labels <labels.csv> [--limit <n>])
         [--url mqtt://127.0.0.1:1883]   broker (default: MQTT_URL, else mqtt://127.0.0.1:1883)
         [--confirm <token>]             confirm this pairing token (one device)
         [--tokens <sn,token file>]      confirm a token per device (many devices)
         [--status] [--firmware <v>]     publish retained {online: true, firmware}
         [--faults <n>] [--code <code>] [--severity info|warning|critical]   publish n fault reports each
         [--reset]                       report a factory reset
         [--telemetry <readings/s>]      report readings at this rate per device (e.g. 0.5), every device at once
           [--batch <n>] [--for <s>]     readings per message (default 10, at most 500); for how long (default 60 s)
           [--points <id,id>]            the points reported in turn (default water_temp,energy: the HT1 heater's)
         [--stay]                        stay connected and print what arrives, until Ctrl-C
         [--state apply|reject]          apply desired states and report the version, or reject them (stays connected)
           [--initial <json>]            the settings reported on connecting, e.g. '{"power":false,"target_temp":50}'
         [--offline <s>]                 stay offline this long before connecting (requests made meanwhile arrive retained)
         [--ota update|fail-install|corrupt|silent|old-version]   take firmware jobs so (needs --firmware; stays connected)
         [--trust-keys <keys.json>]      the maker's public keys [{id, publicKey}] (default: FIRMWARE_SIGNING_KEYS)
         [--ota-chunk <bytes>]           download in ranged requests of this size
         [--wait <ms>]                   how long to wait for each answer (default 10000)`;

const { values } = commandLine(usage, {
  url: { type: 'string' },
  sn: { type: 'string' },
  secret: { type: 'string' },
  labels: { type: 'string' },
  limit: { type: 'string' },
  confirm: { type: 'string' },
  tokens: { type: 'string' },
  status: { type: 'boolean' },
  firmware: { type: 'string' },
  faults: { type: 'string' },
  code: { type: 'string' },
  severity: { type: 'string' },
  reset: { type: 'boolean' },
  telemetry: { type: 'string' },
  batch: { type: 'string' },
  for: { type: 'string' },
  points: { type: 'string' },
  stay: { type: 'boolean' },
  ota: { type: 'string' },
  'trust-keys': { type: 'string' },
  'ota-chunk': { type: 'string' },
  wait: { type: 'string' },
  state: { type: 'string' },
  initial: { type: 'string' },
  offline: { type: 'string' },
});

let devices: SimulatedDevice[];
if (values.sn && values.secret) {
  devices = [{ sn: values.sn, secret: values.secret, token: values.confirm }];
} else if (values.labels) {
  devices = readWith(parseLabels, await readText(values.labels));
  if (values.limit) devices = devices.slice(0, positive(values.limit, '--limit'));
  if (values.confirm) fail('--confirm is for one device (--sn); give --tokens <file> with sn,token lines for many');
} else {
  usageError(usage, 'Give --sn and --secret for one device, or --labels for many');
}
if (values.tokens) {
  const tokens = readWith(parseTokens, await readText(values.tokens));
  for (const device of devices) device.token = tokens.get(device.sn) ?? device.token;
}
if (values.batch && positive(values.batch, '--batch') > 500)
  fail("--batch must be at most 500 (the contract's limit of readings a message)");
if (values.points?.split(',').some((point) => !/^[a-z][a-z0-9_]{0,39}$/.test(point.trim())))
  fail('--points must be point ids like water_temp,energy');
if (values.severity && !(FAULT_SEVERITIES as readonly string[]).includes(values.severity))
  fail(`--severity must be one of ${FAULT_SEVERITIES.join(', ')}`);

const ota = values.ota ? await otaOptions(values, fail) : undefined;
if (values.state && !(STATE_BEHAVIOURS as readonly string[]).includes(values.state))
  fail(`--state must be one of ${STATE_BEHAVIOURS.join(', ')}`);
const state = values.state
  ? { behaviour: values.state as StateBehaviour, initial: values.initial ? initialSettings(values.initial) : undefined }
  : undefined;

const url = values.url ?? process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
process.stderr.write(`simulating ${devices.length} appliance(s) against ${url}\n`);
const shown = progress();
const draw = (state: SimulationProgress, final = false) => (final ? shown.done : shown.update)(describe(state));
const simulation = await simulate(
  {
    url,
    devices,
    status: values.status,
    firmware: values.firmware,
    faults: values.faults ? positive(values.faults, '--faults') : 0,
    faultCode: values.code,
    severity: values.severity as (typeof FAULT_SEVERITIES)[number] | undefined,
    reset: values.reset,
    telemetry: values.telemetry
      ? {
          rate: rate(values.telemetry),
          batch: values.batch ? positive(values.batch, '--batch') : 10,
          seconds: values.for ? positive(values.for, '--for') : 60,
          points: values.points ? values.points.split(',').map((point) => point.trim()) : DEFAULT_TELEMETRY_POINTS,
        }
      : undefined,
    stay: values.stay,
    ota,
    state,
    offlineMs: values.offline ? positive(values.offline, '--offline') * 1000 : undefined,
    waitMs: values.wait ? positive(values.wait, '--wait') : undefined,
  },
  {
    onEvent: (event) => {
      if (event.event !== 'connected') process.stdout.write(`${JSON.stringify(event)}\n`);
    },
    onProgress: draw,
  },
);
draw(simulation.progress, true);
if (values.stay || ota || state) {
  process.stderr.write('connected; Ctrl-C to stop\n');
  const stop = () => void simulation.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  stopWhenNpmIsGone(stop);
} else {
  const { refused, connected, total } = simulation.progress;
  const pairingFailed =
    devices.some((device) => device.token) && simulation.events.some((event) => event.event === 'pairing' && event.status !== 'bound');
  process.exit(refused > 0 || connected < total || pairingFailed ? 1 : 0);
}

function describe(state: SimulationProgress): string {
  const parts = [`connected ${state.connected}/${state.total}`];
  if (state.refused) parts.push(`refused ${state.refused}`);
  if (devices.some((device) => device.token)) parts.push(`paired ${state.paired}`);
  if (values.faults) parts.push(`faults acked ${state.faultsAcked}`);
  if (values.telemetry) parts.push(`readings sent ${state.readingsSent}`);
  parts.push(`done ${state.done}/${state.total}`);
  return parts.join(', ');
}

/** A file's contents read by `parse`; what it refuses (a missing column, malformed CSV) ends the run with its reason. */
function readWith<T>(parse: (text: string) => T, text: string): T {
  try {
    return parse(text);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    fail(`cannot read ${path}: ${String(error)}`);
  }
}

function positive(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) fail(`${name} must be a whole number of at least 1`);
  return value;
}

function rate(raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1000)
    fail('--telemetry must be readings per second per device, above 0 and at most 1000');
  return value;
}

function initialSettings(raw: string): Record<string, boolean | number | string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail('--initial must be a JSON object of point: value');
  }
  const ok =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((value) => ['boolean', 'number', 'string'].includes(typeof value));
  if (!ok) fail('--initial must be a JSON object of point: value (true/false, numbers or strings)');
  return parsed as Record<string, boolean | number | string>;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
