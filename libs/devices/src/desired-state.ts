/**
 * The rules of desired state and state reports, without I/O: what a control
 * request may ask (judged against the device's model, every reason naming
 * its point), how a request merges into the one still pending, and what a
 * device's report changes. One judge of a value: checkPointValue.
 */
import { checkPointValue, pointOf, type ModelDefinition, type PointValue } from './appliance-model.js';

/** How long a control request waits for the device, in seconds. */
export const DESIRED_TTL_SECONDS = { min: 60, max: 86_400, default: 3_600 } as const;

export const DESIRED_STATUSES = ['pending', 'applied', 'rejected', 'expired'] as const;
export type DesiredStatus = (typeof DESIRED_STATUSES)[number];

export type DesiredValues = Record<string, PointValue>;

/** A control request as the app sends it, read and judged. */
export interface DesiredRequest {
  values: DesiredValues;
  ttlSeconds: number;
  ifVersion?: number;
}

export type Judged<T> = { ok: true; value: T } | { ok: false; reasons: string[] };

const REQUEST_FIELDS = new Set(['values', 'ttlSeconds', 'ifVersion']);

/**
 * Reads `{values, ttlSeconds?, ifVersion?}` against the model: every point
 * must exist, be writable and hold a value its point accepts; at least one
 * point. Every reason names its point (`values.target_temp: must be at most 75`).
 */
export function readDesiredRequest(definition: ModelDefinition | null, body: unknown): Judged<DesiredRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reasons: ['body must be a JSON object'] };
  const input = body as Record<string, unknown>;
  const reasons = Object.keys(input)
    .filter((key) => !REQUEST_FIELDS.has(key))
    .map((key) => `property ${key} should not exist`);
  const ttlSeconds = input.ttlSeconds ?? DESIRED_TTL_SECONDS.default;
  if (
    !Number.isInteger(ttlSeconds) ||
    (ttlSeconds as number) < DESIRED_TTL_SECONDS.min ||
    (ttlSeconds as number) > DESIRED_TTL_SECONDS.max
  ) {
    reasons.push(`ttlSeconds must be a whole number from ${DESIRED_TTL_SECONDS.min} to ${DESIRED_TTL_SECONDS.max}`);
  }
  const ifVersion = input.ifVersion;
  if (ifVersion !== undefined && (!Number.isInteger(ifVersion) || (ifVersion as number) < 0)) {
    reasons.push('ifVersion must be a whole number, 0 or more');
  }
  const values = judgeDesiredValues(definition, input.values);
  if (!values.ok) reasons.push(...values.reasons);
  if (reasons.length > 0 || !values.ok) return { ok: false, reasons };
  return {
    ok: true,
    value: {
      values: values.value,
      ttlSeconds: ttlSeconds as number,
      ...(ifVersion === undefined ? {} : { ifVersion: ifVersion as number }),
    },
  };
}

/** `values` of a control request: a non-empty object of writable points of the model, each value fitting its point. */
export function judgeDesiredValues(definition: ModelDefinition | null, values: unknown): Judged<DesiredValues> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    return { ok: false, reasons: ['values must be an object of point: value'] };
  }
  const entries = Object.entries(values as Record<string, unknown>);
  if (entries.length === 0) return { ok: false, reasons: ['values must name at least one point'] };
  const reasons: string[] = [];
  for (const [id, value] of entries) {
    const point = pointOf(definition, id);
    if (!point) {
      reasons.push(`values.${id}: no such point in ${definition ? `model ${definition.model}` : "the device's model"}`);
      continue;
    }
    if (!point.writable) {
      reasons.push(`values.${id}: not writable`);
      continue;
    }
    const problem = checkPointValue(point, value);
    if (problem) reasons.push(`values.${id}: ${problem.message}`);
  }
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value: values as DesiredValues };
}

/** A new request while one is pending: the pending values, overwritten point by point by the new ones. */
export function mergeDesired(pending: DesiredValues | null, values: DesiredValues): DesiredValues {
  return { ...(pending ?? {}), ...values };
}

/** Why a point of a state report was ignored. */
export const REPORT_IGNORE_REASONS = ['unknown_point', 'wrong_type', 'out_of_range'] as const;
export type ReportIgnoreReason = (typeof REPORT_IGNORE_REASONS)[number];

export interface JudgedReport {
  /** The points that change `reported`. */
  accepted: DesiredValues;
  /** How many points were ignored, by reason. */
  ignored: Partial<Record<ReportIgnoreReason, number>>;
}

/**
 * The `values` of a device's report, point by point: an unknown point or a
 * value its point does not accept changes nothing for that point (and is
 * counted), the others merge into `reported`. Any point of the model may be
 * reported, writable or not.
 */
export function judgeReportedValues(definition: ModelDefinition | null, values: Record<string, unknown> | undefined): JudgedReport {
  const accepted: DesiredValues = {};
  const ignored: Partial<Record<ReportIgnoreReason, number>> = {};
  for (const [id, value] of Object.entries(values ?? {})) {
    const point = pointOf(definition, id);
    const reason: ReportIgnoreReason | undefined = !point ? 'unknown_point' : checkPointValue(point, value)?.kind;
    if (reason) ignored[reason] = (ignored[reason] ?? 0) + 1;
    else accepted[id] = value as PointValue;
  }
  return { accepted, ignored };
}

/**
 * What a report says of the pending request: `rejected` (non-empty) refuses
 * the version it names, or the newest pending one; otherwise `version` says
 * that version was applied. Versions at or below it settle with it (they
 * were merged into it); a newer pending one stays pending.
 */
export function settlementOf(report: {
  version?: number;
  rejected?: Record<string, string>;
}): { status: 'applied'; upTo: number } | { status: 'rejected'; upTo: number | 'newest'; reasons: Record<string, string> } | null {
  if (report.rejected && Object.keys(report.rejected).length > 0) {
    return { status: 'rejected', upTo: report.version ?? 'newest', reasons: report.rejected };
  }
  return report.version === undefined ? null : { status: 'applied', upTo: report.version };
}
