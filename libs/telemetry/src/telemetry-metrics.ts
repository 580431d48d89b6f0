import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { ServiceMetrics } from '#libs/platform';
import { DROP_REASONS, type DropReason } from './reading-rules.js';

/** Why a whole telemetry message was refused. */
export type MessageRefusal = 'malformed' | 'unknown_device';

/**
 * Telemetry's counters, served by provisioning at GET /metrics: they join the
 * app's ServiceMetrics registry (one per app: several apps share a process
 * under `npm start` and in tests), or a registry of their own where no app
 * serves metrics (specs that build the module alone).
 */
@Injectable()
export class TelemetryMetrics {
  readonly registry: Registry;
  readonly messages: Counter;
  readonly messagesRefused: Counter<'reason'>;
  readonly stored: Counter;
  readonly dropped: Counter<'reason'>;
  readonly notKept: Counter<'reason'>;
  readonly batchSeconds: Histogram;

  constructor(@Optional() @Inject(ServiceMetrics) service?: ServiceMetrics) {
    this.registry = service?.registry ?? new Registry();
    this.messages = new Counter({
      name: 'telemetry_messages_total',
      help: 'devices/<sn>/telemetry messages received',
      registers: [this.registry],
    });
    this.messagesRefused = new Counter({
      name: 'telemetry_messages_refused_total',
      help: 'Telemetry messages refused whole (not a JSON object with a readings array, unknown device), by reason',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.stored = new Counter({
      name: 'telemetry_readings_stored_total',
      help: 'Readings of history points stored for their owner',
      registers: [this.registry],
    });
    this.dropped = new Counter({
      name: 'telemetry_readings_dropped_total',
      help: 'Readings dropped as bad input, by reason',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.notKept = new Counter({
      name: 'telemetry_readings_not_kept_total',
      help: 'Valid readings not kept per device: not_owned (nobody owns the device), duplicate (already stored)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.batchSeconds = new Histogram({
      name: 'telemetry_batch_seconds',
      help: 'Time to store one batch of telemetry messages (one transaction)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });

    // Every reason shows from the start (at 0), so a dashboard can rate() it before the first bad reading.
    for (const reason of DROP_REASONS) this.dropped.inc({ reason }, 0);
    for (const reason of ['malformed', 'unknown_device']) this.messagesRefused.inc({ reason }, 0);
    for (const reason of ['not_owned', 'duplicate']) this.notKept.inc({ reason }, 0);
  }

  countDropped(dropped: Partial<Record<DropReason, number>>): void {
    for (const [reason, count] of Object.entries(dropped)) if (count) this.dropped.inc({ reason }, count);
  }
}
