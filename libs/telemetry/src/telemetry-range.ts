import { DomainError } from '#libs/platform';
import type { HistoryBucket } from './telemetry.dto.js';

const HOUR_MS = 3600_000;
/** How far back a call reaches when it gives no `from`. */
const DEFAULT_SPAN_MS: Record<HistoryBucket, number> = { raw: 24 * HOUR_MS, hour: 7 * 24 * HOUR_MS, day: 90 * 24 * HOUR_MS };
/** The widest range one call may ask for: the retention of what it reads, and a little more. */
const MAX_SPAN_MS: Record<HistoryBucket, number> = { raw: 31 * 24 * HOUR_MS, hour: 366 * 24 * HOUR_MS, day: 3 * 366 * 24 * HOUR_MS };

/** `from`/`to` of a query as times: `to` defaults to now, `from` to the bucket's default span before it; both inclusive. */
export function timeRange(query: { from?: string; to?: string }, bucket: HistoryBucket, now: Date): { from: Date; to: Date } {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_SPAN_MS[bucket]);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
    throw new DomainError('VALIDATION_FAILED', 'from and to must be ISO 8601 times');
  if (from > to) throw new DomainError('VALIDATION_FAILED', 'from must not be after to');
  if (to.getTime() - from.getTime() > MAX_SPAN_MS[bucket]) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `from and to may be at most ${Math.round(MAX_SPAN_MS[bucket] / (24 * HOUR_MS))} days apart for bucket=${bucket}`,
    );
  }
  return { from, to };
}
