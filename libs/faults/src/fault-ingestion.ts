import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { Clock } from '#libs/identity';
import { decodePayload, FaultReportPayload } from '#libs/mqtt-contract';
import { Batcher, isTransientDatabaseError } from '#libs/platform';
import { FaultReportStore, type IncomingReport, type StoreResult } from './fault-report.store.js';

/** What the device is told on devices/<sn>/faults/ack. */
export type FaultIngestAnswer = { reportId: string } & StoreResult;

/**
 * Receives one fault report (the raw MQTT payload of devices/<sn>/faults):
 * refuses bad input with a reason, otherwise stores it in the next batch and
 * answers once that batch is committed. While the database is unreachable
 * the answer waits (the batcher retries), so the caller acknowledges nothing
 * that is not stored.
 */
@Injectable()
export class FaultIngestion implements OnApplicationShutdown {
  private readonly logger = new Logger('FaultIngestion');
  private readonly batcher: Batcher<IncomingReport, StoreResult>;

  constructor(
    private readonly config: AppConfig,
    private readonly store: FaultReportStore,
    private readonly clock: Clock,
  ) {
    const settings = config.faults;
    this.batcher = new Batcher({
      run: (items) => this.store.storeBatch(items),
      maxSize: settings.batchMaxSize,
      windowMs: settings.batchWindowMs,
      concurrency: settings.batchConcurrency,
      retryMaxDelayMs: settings.retryMaxDelayMs,
      isTransient: isTransientDatabaseError,
      onRetry: (error, attempt, delayMs) => {
        if (attempt === 1 || attempt % 10 === 0) {
          this.logger.warn(
            `fault reports not stored yet (database: ${error instanceof Error ? error.message : String(error)}); retry ${attempt} in ${delayMs} ms`,
          );
        }
      },
    });
  }

  async receive(sn: string, payload: Buffer): Promise<FaultIngestAnswer> {
    const limit = this.config.faults.maxReportBytes;
    if (payload.length > limit) return { reportId: salvageReportId(payload), stored: 'rejected', reason: `report exceeds ${limit} bytes` };
    const decoded = decodePayload(FaultReportPayload, payload);
    if (!decoded.ok) return { reportId: salvageReportId(payload), stored: 'rejected', reason: decoded.reason };
    const report = decoded.value;
    const now = this.clock.now();
    if (Date.parse(report.occurredAt) > now.getTime() + this.config.faults.maxFutureSkewSeconds * 1000) {
      return { reportId: report.reportId, stored: 'rejected', reason: 'occurredAt is in the future' };
    }
    const result = await this.batcher.submit({ sn, report, receivedAt: now });
    return { reportId: report.reportId, ...result };
  }

  onApplicationShutdown(): void {
    this.batcher.close();
  }
}

/** The reportId of a refused payload when one can be read, so the device can match the ack; else "unknown". */
function salvageReportId(payload: Buffer): string {
  try {
    const value = (JSON.parse(payload.toString('utf8')) as { reportId?: unknown }).reportId;
    if (typeof value === 'string' && value.length >= 1 && value.length <= 64) return value;
  } catch {
    // not JSON
  }
  return 'unknown';
}
