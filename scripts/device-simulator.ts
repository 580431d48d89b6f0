import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { FAULT_SEVERITIES, topics, type FaultReportPayload, type PairingResultPayload, type StatusPayload } from '#libs/mqtt-contract';
import { readCsv } from '#libs/platform';
import { connectAppliance } from './simulator/connect.js';
import { OtaDevice, type OtaBehaviour, type OtaEvent, type TrustedKey } from './simulator/ota.js';
import { StateDevice, type StateEvent, type StateOptions } from './simulator/state.js';
import { sendTelemetry, type TelemetryOptions } from './simulator/telemetry.js';

/** One appliance the simulator plays: its SN and secret, and the pairing token to confirm, if any. */
export interface SimulatedDevice {
  sn: string;
  secret: string;
  token?: string;
}

export interface SimulationOptions {
  url: string;
  devices: SimulatedDevice[];
  /** Publish retained `{online: true, firmware}` on devices/<sn>/status. */
  status?: boolean;
  firmware?: string;
  /** Fault reports per device. */
  faults?: number;
  faultCode?: string;
  severity?: (typeof FAULT_SEVERITIES)[number];
  /** Publish `{}` on devices/<sn>/reset (after a factory reset). */
  reset?: boolean;
  /** How long to wait for each answer (pairing result, fault ack). */
  waitMs?: number;
  /** Devices connecting at the same time. */
  concurrency?: number;
  /** Keep the connections open (printing what arrives) until the returned `stop` is called. */
  stay?: boolean;
  /** Take firmware jobs as `behaviour` says (scripts/simulator/ota.ts), staying connected; needs `firmware`. */
  ota?: { behaviour: OtaBehaviour; trustedKeys: TrustedKey[]; chunkBytes?: number };
  /** Report readings on devices/<sn>/telemetry (scripts/simulator/telemetry.ts), every device at once. */
  telemetry?: TelemetryOptions;
  /** Apply (or reject) desired states as they arrive (scripts/simulator/state.ts), staying connected. */
  state?: StateOptions;
  /** Stay offline this many milliseconds before connecting (a request made meanwhile arrives retained). */
  offlineMs?: number;
}

/** What happened, one line per event; the CLI prints each as a JSON line. */
export type SimulationEvent =
  | { sn: string; event: 'connected' }
  | { sn: string; event: 'refused'; reason: string }
  | { sn: string; event: 'pairing'; pairingId: string | null; status: string }
  | { sn: string; event: 'status'; online: boolean }
  | { sn: string; event: 'fault'; reportId: string; stored: string | null; reason?: string }
  | { sn: string; event: 'reset' }
  | { sn: string; event: 'telemetry'; messages: number; readings: number }
  | { sn: string; event: 'message'; topic: string; payload: string }
  | OtaEvent
  | StateEvent;

export interface SimulationProgress {
  total: number;
  connected: number;
  refused: number;
  paired: number;
  faultsAcked: number;
  readingsSent: number;
  done: number;
}

export interface Simulation {
  events: SimulationEvent[];
  progress: SimulationProgress;
  stop(): Promise<void>;
}

/**
 * Plays appliances against the broker exactly as the contract says a device
 * behaves: clientId = username = SN, password = secret; confirms its pairing
 * token and waits for the result; publishes status, fault reports (QoS 1,
 * waiting for the ack), a factory reset, and readings at a chosen rate;
 * applies (or rejects) desired states and reports the version.
 */
export async function simulate(
  options: SimulationOptions,
  listeners: { onEvent?(event: SimulationEvent): void; onProgress?(progress: SimulationProgress): void } = {},
): Promise<Simulation> {
  const waitMs = options.waitMs ?? 10_000;
  const events: SimulationEvent[] = [];
  const progress: SimulationProgress = {
    total: options.devices.length,
    connected: 0,
    refused: 0,
    paired: 0,
    faultsAcked: 0,
    readingsSent: 0,
    done: 0,
  };
  const reporting: Array<Promise<void>> = [];
  const clients: MqttClient[] = [];
  const otaDevices: OtaDevice[] = [];
  const emit = (event: SimulationEvent) => {
    events.push(event);
    listeners.onEvent?.(event);
  };
  const tick = () => listeners.onProgress?.(progress);

  const play = async (device: SimulatedDevice) => {
    if (options.offlineMs) await new Promise((resolve) => setTimeout(resolve, options.offlineMs));
    let client: MqttClient;
    try {
      client = await connectAppliance(options.url, device);
    } catch (error) {
      progress.refused += 1;
      emit({ sn: device.sn, event: 'refused', reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    clients.push(client);
    progress.connected += 1;
    emit({ sn: device.sn, event: 'connected' });
    tick();
    const state = options.state ? StateDevice.listen(client, device.sn, options.state, emit) : undefined;
    await client.subscribeAsync(`devices/${device.sn}/#`, { qos: 1 });
    await state?.reportInitial();
    if (options.stay) {
      client.on('message', (topic, payload) => emit({ sn: device.sn, event: 'message', topic, payload: payload.toString('utf8') }));
    }
    if (options.status) {
      const status: StatusPayload = { online: true, ...(options.firmware ? { firmware: options.firmware } : {}) };
      await client.publishAsync(topics.status(device.sn), JSON.stringify(status), { qos: 1, retain: true });
      emit({ sn: device.sn, event: 'status', online: true });
    }
    if (device.token) {
      const answer = awaitMessage(client, topics.pairingResult(device.sn), waitMs);
      await client.publishAsync(topics.pairingConfirm(device.sn), JSON.stringify({ token: device.token }), { qos: 1 });
      const result = (await answer) as PairingResultPayload | undefined;
      if (result?.status === 'bound') progress.paired += 1;
      emit({ sn: device.sn, event: 'pairing', pairingId: result?.pairingId ?? null, status: result?.status ?? 'no answer' });
      tick();
    }
    for (let index = 0; index < (options.faults ?? 0); index += 1) {
      const report: FaultReportPayload = {
        reportId: randomUUID(),
        code: options.faultCode ?? 'E01',
        severity: options.severity ?? 'warning',
        occurredAt: new Date().toISOString(),
        ...(options.firmware ? { firmware: options.firmware } : {}),
      };
      const ack = awaitMessage(
        client,
        topics.faultsAck(device.sn),
        waitMs,
        (body) => (body as { reportId?: string }).reportId === report.reportId,
      );
      await client.publishAsync(topics.faults(device.sn), JSON.stringify(report), { qos: 1 });
      const answer = (await ack) as { stored?: string; reason?: string } | undefined;
      if (answer) progress.faultsAcked += 1;
      emit({
        sn: device.sn,
        event: 'fault',
        reportId: report.reportId,
        stored: answer?.stored ?? null,
        ...(answer?.reason ? { reason: answer.reason } : {}),
      });
      tick();
    }
    if (options.reset) {
      await client.publishAsync(topics.reset(device.sn), '{}', { qos: 1 });
      emit({ sn: device.sn, event: 'reset' });
    }
    if (options.ota) {
      const ota = { ...options.ota, url: options.url, sn: device.sn, secret: device.secret, firmware: options.firmware ?? '0.0.0' };
      otaDevices.push(await OtaDevice.start({ ...ota, onEvent: emit }, client));
    }
    // Readings go on in the background, so every device reports at once (the workers only pace the connecting).
    if (options.telemetry) {
      const sent = sendTelemetry(client, device.sn, options.telemetry, (readings) => {
        progress.readingsSent += readings;
        tick();
      });
      reporting.push(sent.then((totals) => emit({ sn: device.sn, event: 'telemetry', ...totals })));
    }
  };

  const queue = [...options.devices];
  const workers = Array.from({ length: Math.min(options.concurrency ?? 100, queue.length) }, async () => {
    for (let device = queue.shift(); device; device = queue.shift()) {
      await play(device);
      progress.done += 1;
      tick();
    }
  });
  await Promise.all(workers);
  await Promise.all(reporting);

  const stop = async () => {
    await Promise.all(otaDevices.map((device) => device.stop()));
    await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
  };
  if (!options.stay && !options.ota && !options.state) await stop();
  return { events, progress, stop };
}

/** The next JSON message on `topic` (matching `accept`), or undefined after `timeoutMs`. */
function awaitMessage(
  client: MqttClient,
  topic: string,
  timeoutMs: number,
  accept: (body: unknown) => boolean = () => true,
): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      resolve(undefined);
    }, timeoutMs);
    const onMessage = (arrived: string, payload: Buffer) => {
      if (arrived !== topic) return;
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return;
      }
      if (!accept(body)) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(body);
    };
    client.on('message', onMessage);
  });
}

/** Reads the labels file of `npm run devices:import` (`sn,mac,model,deviceSecret,qr`), quoted fields and all. */
export function parseLabels(text: string): SimulatedDevice[] {
  const [header, ...records] = readCsv(text);
  if (!header) return [];
  const names = header.map((name) => name.trim());
  const sn = names.indexOf('sn');
  const secret = names.indexOf('deviceSecret');
  if (sn < 0 || secret < 0) throw new Error('the labels file needs the columns sn and deviceSecret (as written by npm run devices:import)');
  return records.map((fields) => ({ sn: (fields[sn] ?? '').trim(), secret: (fields[secret] ?? '').trim() }));
}

/** Reads `sn,token` records (a header is optional): the pairing tokens to confirm, per device. */
export function parseTokens(text: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const [sn, token] of readCsv(text).map((fields) => fields.map((field) => field.trim()))) {
    if (!sn || !token || sn === 'sn') continue;
    tokens.set(sn, token);
  }
  return tokens;
}
