// Shapes of the public HTTP API (../shared/CONTRACT.md), read defensively: fields the
// contract leaves open are optional here and shown only when present.

export interface Repair {
  id: string;
  status: string;
  sn?: string;
  model?: string;
  description?: string;
  createdAt?: string;
  technicianId?: string | null;
  assignedAt?: string | null;
}

export type Severity = 'info' | 'warning' | 'critical';

export interface FaultReport {
  reportId?: string;
  id?: string;
  code: string;
  severity: Severity | string;
  occurredAt?: string;
  occurredOn?: string;
  firmware?: string | null;
  stored?: string;
  diagnostics?: Record<string, unknown> | null;
}

export interface VisitDetail {
  repair: Repair;
  device: { sn: string | null; model: string };
  contact: { name: string | null; phone: string | null } | null;
  faults: FaultReport[];
  /** The device's reported state, `{<point>: {value, at}}` (absent from servers before it was added). */
  reported?: Record<string, { value: boolean | number | string; at: string }>;
}

export interface Technician {
  id: string;
  phone?: string;
  name?: string;
}

export interface CountRow {
  label: string;
  count: number;
}

export interface FaultStats {
  byModel: CountRow[];
  byCode: CountRow[];
  byDay: CountRow[];
}

/** Accepts [{model|code|day|key|label, count}] or {key: count}; anything else reads as no data. */
export function toRows(value: unknown, keys: string[]): CountRow[] {
  if (Array.isArray(value)) {
    return value.flatMap((item: unknown) => {
      if (!item || typeof item !== 'object') return [];
      const record = item as Record<string, unknown>;
      const key = [...keys, 'key', 'label'].map((name) => record[name]).find((candidate) => candidate !== undefined && candidate !== null);
      const count = Number(record.count ?? record.total ?? record.reports);
      return key === undefined || !Number.isFinite(count) ? [] : [{ label: String(key), count }];
    });
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, count]) => Number.isFinite(Number(count)))
      .map(([label, count]) => ({ label, count: Number(count) }));
  }
  return [];
}

export function toStats(body: unknown): FaultStats {
  const record = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return {
    byModel: toRows(record.byModel, ['model']),
    byCode: toRows(record.byCode, ['code']),
    byDay: toRows(record.byDay, ['day', 'date']).sort((a, b) => a.label.localeCompare(b.label)),
  };
}

export function formatTime(iso: string | undefined | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
