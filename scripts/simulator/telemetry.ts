import type { MqttClient } from 'mqtt';
import { TELEMETRY_MAX_READINGS, topics, type TelemetryPayload } from '#libs/mqtt-contract';

/** How a simulated appliance reports readings on devices/<sn>/telemetry. */
export interface TelemetryOptions {
  /** Readings per second, per device (0.1 = one every 10 seconds). */
  rate: number;
  /** Readings per message (1-500). */
  batch: number;
  /** How long to report, in seconds. */
  seconds: number;
  /** The points reported, in turn. */
  points: string[];
  qos?: 0 | 1;
}

export const DEFAULT_TELEMETRY_POINTS = ['water_temp', 'energy'];

/**
 * Plausible values per point of the demo models (README, "Appliance models"):
 * a slow wave for temperatures and water quality, a rising count for meters;
 * any other point walks between 0 and 100.
 */
export function valueSource(point: string, seed = Math.random()): () => number {
  let step = 0;
  const wave = (middle: number, swing: number) => () => Math.round((middle + swing * Math.sin(seed * 10 + step++ / 30)) * 10) / 10;
  let total = Math.round(seed * 1000);
  const meter = (per: number) => () => (total = Math.round((total + per * Math.random()) * 100) / 100);
  switch (point) {
    case 'water_temp':
      return wave(50, 12);
    case 'tds':
      return wave(150, 60);
    case 'energy':
      return meter(0.05);
    case 'water_drawn':
      return meter(0.5);
    default: {
      let value = seed * 100;
      return () => (value = Math.min(100, Math.max(0, Math.round((value + (Math.random() - 0.5) * 4) * 10) / 10)));
    }
  }
}

/**
 * Sends readings at `rate` per second for `seconds`, `batch` to a message:
 * each message carries the readings taken since the previous one, each with
 * the time it was taken. Resolves with what was sent.
 */
export async function sendTelemetry(
  client: MqttClient,
  sn: string,
  options: TelemetryOptions,
  onMessage: (readings: number) => void = () => undefined,
): Promise<{ messages: number; readings: number }> {
  const batch = Math.min(Math.max(1, options.batch), TELEMETRY_MAX_READINGS);
  const sources = options.points.map((point) => ({ point, next: valueSource(point) }));
  const intervalMs = 1000 / options.rate;
  const started = Date.now();
  const until = started + options.seconds * 1000;
  let taken = 0;
  let messages = 0;
  let pending: TelemetryPayload['readings'] = [];
  for (;;) {
    const at = started + taken * intervalMs;
    if (at >= until) break;
    const wait = at - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const source = sources[taken % sources.length];
    pending.push({ point: source.point, at: new Date(at).toISOString(), value: source.next() });
    taken += 1;
    if (pending.length >= batch) {
      await publish(client, sn, pending, options.qos ?? 1);
      messages += 1;
      onMessage(pending.length);
      pending = [];
    }
  }
  if (pending.length > 0) {
    await publish(client, sn, pending, options.qos ?? 1);
    messages += 1;
    onMessage(pending.length);
  }
  return { messages, readings: taken };
}

async function publish(client: MqttClient, sn: string, readings: TelemetryPayload['readings'], qos: 0 | 1): Promise<void> {
  const payload: TelemetryPayload = { readings };
  await client.publishAsync(topics.telemetry(sn), JSON.stringify(payload), { qos });
}
