/**
 * Appliance models: what each model's data points are, and the one place a
 * value is judged against its point. Pure functions, no I/O: the HTTP side
 * (desired values), the MQTT side (reported values) and telemetry all ask
 * checkPointValue, so a value means the same everywhere.
 */

export const POINT_TYPES = ['boolean', 'integer', 'number', 'enum', 'string'] as const;
export type PointType = (typeof POINT_TYPES)[number];

/** A point id: lowercase, starts with a letter, at most 40 characters. */
export const POINT_ID_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

/** Limits of a definition, so one model cannot make every request or report expensive. */
export const MODEL_LIMITS = { points: 100, nameLength: 100, unitLength: 16, enumValues: 64, enumValueLength: 32, maxLength: 1024 } as const;

export interface PointDefinition {
  id: string;
  type: PointType;
  /** The app may set it (desired state). */
  writable: boolean;
  /** Its readings are kept over time (telemetry). */
  history: boolean;
  unit?: string;
  /** Bounds of `integer` and `number` points, inclusive. */
  min?: number;
  max?: number;
  /** The allowed values of an `enum` point. */
  values?: string[];
  /** The longest value of a `string` point, in characters. */
  maxLength?: number;
}

export interface ModelDefinition {
  model: string;
  name: string;
  points: PointDefinition[];
}

/** A data point's value as JSON carries it. */
export type PointValue = boolean | number | string;

/** Why a value does not fit its point: the kind (for counting) and the words (for people). */
export interface PointValueProblem {
  kind: 'wrong_type' | 'out_of_range';
  message: string;
}

/**
 * Does `value` fit `point`? Null when it does; otherwise what is wrong:
 * `wrong_type` (not the JSON type, or not a whole number for an integer),
 * `out_of_range` (below min, above max, not one of an enum's values, longer
 * than maxLength).
 */
export function checkPointValue(point: PointDefinition, value: unknown): PointValueProblem | null {
  const wrongType = (message: string): PointValueProblem => ({ kind: 'wrong_type', message });
  const outOfRange = (message: string): PointValueProblem => ({ kind: 'out_of_range', message });
  switch (point.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : wrongType('must be true or false');
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrongType('must be a number');
      if (point.type === 'integer' && !Number.isInteger(value)) return wrongType('must be a whole number');
      if (point.min !== undefined && value < point.min) return outOfRange(`must be at least ${point.min}`);
      if (point.max !== undefined && value > point.max) return outOfRange(`must be at most ${point.max}`);
      return null;
    }
    case 'enum':
      if (typeof value !== 'string') return wrongType(`must be one of ${(point.values ?? []).join(', ')}`);
      return (point.values ?? []).includes(value) ? null : outOfRange(`must be one of ${(point.values ?? []).join(', ')}`);
    case 'string':
      if (typeof value !== 'string') return wrongType('must be a string');
      return [...value].length <= (point.maxLength ?? 0) ? null : outOfRange(`must be at most ${point.maxLength} characters`);
  }
}

const POINT_FIELDS = new Set(['id', 'type', 'writable', 'history', 'unit', 'min', 'max', 'values', 'maxLength']);
const MODEL_FIELDS = new Set(['name', 'points']);

/**
 * Reads a model definition as PUT /v1/admin/models/:model takes it. Answers
 * the definition, or every reason it is refused, each naming its point
 * (`points[2] (temperature): min must not exceed max`). Unknown fields are
 * refused, never dropped.
 */
export function readModelDefinition(model: string, body: unknown): { ok: true; value: ModelDefinition } | { ok: false; reasons: string[] } {
  const reasons: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reasons: ['the body must be a JSON object'] };
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!MODEL_FIELDS.has(key)) reasons.push(`unknown field ${key}`);
  const name = input.name;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > MODEL_LIMITS.nameLength) {
    reasons.push(`name must be a string of 1-${MODEL_LIMITS.nameLength} characters`);
  }
  const points: PointDefinition[] = [];
  if (!Array.isArray(input.points)) {
    reasons.push('points must be an array');
  } else if (input.points.length === 0 || input.points.length > MODEL_LIMITS.points) {
    reasons.push(`points must list 1-${MODEL_LIMITS.points} points`);
  } else {
    const seen = new Set<string>();
    input.points.forEach((raw, index) => {
      const read = readPoint(raw);
      const label = `points[${index}]${read.id ? ` (${read.id})` : ''}`;
      reasons.push(...read.reasons.map((reason) => `${label}: ${reason}`));
      if (read.id) {
        if (seen.has(read.id)) reasons.push(`${label}: id is used by an earlier point`);
        seen.add(read.id);
      }
      if (read.point) points.push(read.point);
    });
  }
  if (reasons.length > 0) return { ok: false, reasons };
  return { ok: true, value: { model, name: name as string, points } };
}

function readPoint(raw: unknown): { id?: string; point?: PointDefinition; reasons: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { reasons: ['must be an object'] };
  const input = raw as Record<string, unknown>;
  const reasons: string[] = [];
  for (const key of Object.keys(input)) if (!POINT_FIELDS.has(key)) reasons.push(`unknown field ${key}`);
  const id = typeof input.id === 'string' && POINT_ID_PATTERN.test(input.id) ? input.id : undefined;
  if (!id) reasons.push('id must match ^[a-z][a-z0-9_]{0,39}$');
  const type = (POINT_TYPES as readonly unknown[]).includes(input.type) ? (input.type as PointType) : undefined;
  if (!type) reasons.push(`type must be one of ${POINT_TYPES.join(', ')}`);
  if (typeof input.writable !== 'boolean') reasons.push('writable must be true or false');
  if (typeof input.history !== 'boolean') reasons.push('history must be true or false');
  if (
    input.unit !== undefined &&
    (typeof input.unit !== 'string' || input.unit.length === 0 || input.unit.length > MODEL_LIMITS.unitLength)
  ) {
    reasons.push(`unit must be a string of 1-${MODEL_LIMITS.unitLength} characters`);
  }
  const numeric = type === 'integer' || type === 'number';
  for (const bound of ['min', 'max'] as const) {
    const value = input[bound];
    if (value === undefined) continue;
    if (!numeric) reasons.push(`${bound} applies only to integer and number points`);
    else if (typeof value !== 'number' || !Number.isFinite(value)) reasons.push(`${bound} must be a number`);
    else if (type === 'integer' && !Number.isInteger(value)) reasons.push(`${bound} must be a whole number for an integer point`);
  }
  if (typeof input.min === 'number' && typeof input.max === 'number' && input.min > input.max) reasons.push('min must not exceed max');
  if (type === 'enum') {
    const values = input.values;
    if (!Array.isArray(values) || values.length === 0 || values.length > MODEL_LIMITS.enumValues) {
      reasons.push(`an enum point needs values: 1-${MODEL_LIMITS.enumValues} strings`);
    } else if (values.some((value) => typeof value !== 'string' || value.length === 0 || value.length > MODEL_LIMITS.enumValueLength)) {
      reasons.push(`values must be strings of 1-${MODEL_LIMITS.enumValueLength} characters`);
    } else if (new Set(values).size !== values.length) {
      reasons.push('values must not repeat');
    }
  } else if (input.values !== undefined) {
    reasons.push('values applies only to enum points');
  }
  if (type === 'string') {
    const maxLength = input.maxLength;
    if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 1 || maxLength > MODEL_LIMITS.maxLength) {
      reasons.push(`a string point needs maxLength: a whole number of 1-${MODEL_LIMITS.maxLength}`);
    }
  } else if (input.maxLength !== undefined) {
    reasons.push('maxLength applies only to string points');
  }
  if (reasons.length > 0 || !id || !type) return { id, reasons };
  const point: PointDefinition = { id, type, writable: input.writable as boolean, history: input.history as boolean };
  if (input.unit !== undefined) point.unit = input.unit as string;
  if (input.min !== undefined) point.min = input.min as number;
  if (input.max !== undefined) point.max = input.max as number;
  if (type === 'enum') point.values = [...(input.values as string[])];
  if (type === 'string') point.maxLength = input.maxLength as number;
  return { id, point, reasons };
}

const byId = new WeakMap<ModelDefinition, Map<string, PointDefinition>>();

/** A point of a definition by id (undefined for an unknown point, or when there is no definition). */
export function pointOf(definition: ModelDefinition | null | undefined, id: string): PointDefinition | undefined {
  if (!definition) return undefined;
  let points = byId.get(definition);
  if (!points) byId.set(definition, (points = new Map(definition.points.map((point) => [point.id, point]))));
  return points.get(id);
}
