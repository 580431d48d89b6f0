import type { ContributorKeys } from './contributor-key.js';
import type { ContributorInput, SeriesInput, Summary } from './telemetry-ingest.repository.js';
import { BUCKETS, bucketStart } from './time-buckets.js';

export interface BatchSummaries {
  /** Per series (by position in the batch) and bucket: what the batch adds to the owner's rollups. */
  rollups: Array<Summary & { series: number }>;
  /** Per model, point and bucket: what the batch adds to the maker's statistics (contributing owners only). */
  statistics: Array<Summary & { model: string; point: string }>;
  /** One key per contributing device and bucket (see ContributorKeys). */
  contributors: ContributorInput[];
}

/**
 * Sums a batch's numeric readings per series, hour and day (UTC), the way the
 * SQL of insertSkippingDuplicates does (date_trunc(bucket, at, 'UTC')), and,
 * for series whose owner contributes, per model, point and bucket. Only for a
 * batch whose readings all go in.
 */
export function summarise(series: readonly SeriesInput[], numeric: ReadonlyArray<boolean>, keys: ContributorKeys): BatchSummaries {
  const rollups: BatchSummaries['rollups'] = [];
  const statistics = new Map<string, Summary & { model: string; point: string }>();
  const contributors: ContributorInput[] = [];
  series.forEach((entry, index) => {
    if (!numeric[index]) return;
    for (const bucket of BUCKETS) {
      const byStart = new Map<number, Summary & { series: number }>();
      for (const reading of entry.readings) {
        const value = reading.value as number;
        const at = bucketStart(bucket, reading.at);
        const known = byStart.get(at);
        if (known) {
          known.count += 1;
          if (value < known.min) known.min = value;
          if (value > known.max) known.max = value;
          known.sum += value;
        } else {
          byStart.set(at, { series: index, bucket, at, count: 1, min: value, max: value, sum: value });
        }
      }
      for (const summary of byStart.values()) {
        rollups.push(summary);
        if (!entry.contributes) continue;
        contributors.push({
          bucket,
          at: new Date(summary.at).toISOString(),
          deviceKey: keys.of(bucket, summary.at, entry.sn),
          model: entry.model,
          point: entry.point,
        });
        const key = `${entry.model}\u0000${entry.point}\u0000${bucket}\u0000${summary.at}`;
        const total = statistics.get(key);
        if (!total) {
          statistics.set(key, {
            model: entry.model,
            point: entry.point,
            bucket,
            at: summary.at,
            count: summary.count,
            min: summary.min,
            max: summary.max,
            sum: summary.sum,
          });
        } else {
          total.count += summary.count;
          total.min = Math.min(total.min, summary.min);
          total.max = Math.max(total.max, summary.max);
          total.sum += summary.sum;
        }
      }
    }
  });
  return { rollups, statistics: [...statistics.values()], contributors };
}
