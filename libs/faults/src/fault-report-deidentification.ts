import type { FaultReportEntity } from './fault-report.entity.js';

/**
 * What de-identifying a fault report means, in one place: the JavaScript the
 * store applies when a report arrives without a live `fault_diagnostics`,
 * the SQL that withdrawal, erasure and retention apply to stored reports,
 * and the database CHECK `fault_reports_deidentified_keeps_nothing`
 * (migration Faults1764400500000). test/medium/fault-report-deidentification.medium-spec.ts
 * holds the three equal.
 *
 * A de-identified report keeps model, firmware, code, severity and the day
 * (times cut to midnight UTC): product statistics that point at no device
 * and no person. Everything that could lead back is NULL.
 */

/** The properties a de-identified report holds as NULL; the CHECK refuses a de-identified row with any of them set. */
export const CLEARED_WHEN_DEIDENTIFIED = ['sn', 'mac', 'diagnostics', 'ownerId'] as const satisfies ReadonlyArray<keyof FaultReportEntity>;

/** Midnight UTC of the instant's day: all a de-identified record keeps of its times. */
export function dayOf(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
}

/** JavaScript: the de-identified form of a report's values. */
export function deidentified(values: Partial<FaultReportEntity>): Partial<FaultReportEntity> {
  const out: Partial<FaultReportEntity> = { ...values, stored: 'deidentified' };
  for (const property of CLEARED_WHEN_DEIDENTIFIED) out[property] = null;
  if (values.occurredAt) out.occurredAt = dayOf(values.occurredAt);
  if (values.receivedAt) out.receivedAt = dayOf(values.receivedAt);
  return out;
}

/** Cuts a timestamp column to midnight UTC of its day, in SQL (as dayOf does). */
const DAY = (column: string) => `date_trunc('day', ${column}, 'UTC')`;

/** SQL: the same, as the SET list of an UPDATE of fault_reports. */
export const DEIDENTIFY_SET = `stored = 'deidentified', sn = NULL, mac = NULL, diagnostics = NULL, owner_id = NULL,
  occurred_at = ${DAY('occurred_at')}, received_at = ${DAY('received_at')}`;

/** The CHECK's rule in JavaScript: a row is acceptable when it is full, or keeps none of the cleared values. */
export function keepsNothingWhenDeidentified(row: Partial<FaultReportEntity>): boolean {
  return row.stored === 'full' || CLEARED_WHEN_DEIDENTIFIED.every((property) => row[property] === null || row[property] === undefined);
}
