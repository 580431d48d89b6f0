/** The summaries' buckets: whole UTC hours and days. */
export const BUCKETS = ['hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];

export const BUCKET_MS: Record<Bucket, number> = { hour: 3600_000, day: 24 * 3600_000 };

/** The start of the bucket holding `at` (milliseconds, UTC), as PostgreSQL's date_trunc(bucket, at, 'UTC'). */
export function bucketStart(bucket: Bucket, at: number): number {
  return Math.floor(at / BUCKET_MS[bucket]) * BUCKET_MS[bucket];
}
