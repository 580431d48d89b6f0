import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { ModelCatalog } from '#libs/devices';
import { Clock } from '#libs/identity';
import { decodePayload, TelemetryPayload } from '#libs/mqtt-contract';
import { Batcher, isTransientDatabaseError } from '#libs/platform';
import { judgeReadings, type DropReason } from './reading-rules.js';
import { TelemetryMetrics, type MessageRefusal } from './telemetry-metrics.js';
import { TelemetryStore, type TelemetryBatchItem, type TelemetryItemResult } from './telemetry-store.js';

/** What became of one message. */
export type TelemetryReceipt =
  | { outcome: 'refused'; reason: MessageRefusal; detail: string }
  | { outcome: 'taken'; accepted: number; dropped: Partial<Record<DropReason, number>>; owned: boolean | null };

/**
 * Receives one `devices/<sn>/telemetry` message (its raw payload): judges
 * every reading (reading-rules.ts), counts what it drops, and stores the rest
 * in the next batch of the device's lane, answering once that batch is
 * committed. A device's messages always go to the same lane (by SN), so
 * batches in work at once never touch the same series, rollups or reported
 * points. While the database is unreachable the answer waits (the batcher
 * retries), so the caller acknowledges nothing that is not stored. Bad input
 * never throws: it is counted and answered.
 */
@Injectable()
export class TelemetryIngestion implements OnApplicationShutdown {
  private readonly logger = new Logger('TelemetryIngestion');
  private readonly lanes: Array<Batcher<TelemetryBatchItem, TelemetryItemResult>>;

  constructor(
    config: AppConfig,
    private readonly store: TelemetryStore,
    private readonly catalog: ModelCatalog,
    private readonly clock: Clock,
    private readonly metrics: TelemetryMetrics,
  ) {
    const settings = config.telemetry;
    this.lanes = Array.from(
      { length: settings.lanes },
      () =>
        new Batcher<TelemetryBatchItem, TelemetryItemResult>({
          run: (items) => this.storeBatch(items),
          maxSize: settings.batchMaxMessages,
          windowMs: settings.batchWindowMs,
          concurrency: 1,
          retryMaxDelayMs: settings.retryMaxDelayMs,
          isTransient: isTransientDatabaseError,
          onRetry: (error, attempt, delayMs) => {
            if (attempt === 1 || attempt % 10 === 0) {
              this.logger.warn(
                `telemetry not stored yet (database: ${error instanceof Error ? error.message : String(error)}); retry ${attempt} in ${delayMs} ms`,
              );
            }
          },
        }),
    );
  }

  async receive(sn: string, payload: Buffer): Promise<TelemetryReceipt> {
    this.metrics.messages.inc();
    const decoded = decodePayload(TelemetryPayload, payload);
    if (!decoded.ok) return this.refuse('malformed', decoded.reason);
    const device = await this.catalog.definitionOfDevice(sn);
    if (!device) return this.refuse('unknown_device', 'no device has this SN');
    const judged = judgeReadings(decoded.value.readings, device.definition, this.clock.now().getTime());
    this.metrics.countDropped(judged.dropped);
    if (judged.accepted.length === 0) return { outcome: 'taken', accepted: 0, dropped: judged.dropped, owned: null };
    const result = await this.laneOf(sn).submit({ sn, model: device.model, readings: judged.accepted, newest: judged.newest });
    return { outcome: 'taken', accepted: judged.accepted.length, dropped: judged.dropped, owned: result.owned };
  }

  onApplicationShutdown(): void {
    for (const lane of this.lanes) lane.close();
  }

  private async storeBatch(items: TelemetryBatchItem[]): Promise<TelemetryItemResult[]> {
    const end = this.metrics.batchSeconds.startTimer();
    const result = await this.store.storeBatch(items);
    end();
    this.metrics.stored.inc(result.stored);
    if (result.duplicates > 0) this.metrics.notKept.inc({ reason: 'duplicate' }, result.duplicates);
    if (result.notOwned > 0) this.metrics.notKept.inc({ reason: 'not_owned' }, result.notOwned);
    return result.items;
  }

  private refuse(reason: MessageRefusal, detail: string): TelemetryReceipt {
    this.metrics.messagesRefused.inc({ reason });
    return { outcome: 'refused', reason, detail };
  }

  private laneOf(sn: string): Batcher<TelemetryBatchItem, TelemetryItemResult> {
    let hash = 0;
    for (let index = 0; index < sn.length; index += 1) hash = (hash * 31 + sn.charCodeAt(index)) | 0;
    return this.lanes[Math.abs(hash) % this.lanes.length];
  }
}
