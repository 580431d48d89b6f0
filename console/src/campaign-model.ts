import type { CountRow } from './model';

// Firmware campaigns as provisioning answers them (GET /v1/admin/campaigns), read defensively.

export type CampaignStatus = 'running' | 'paused' | 'completed' | 'cancelled';

export interface Campaign {
  id: string;
  model: string | null;
  version: string | null;
  status: CampaignStatus | string;
  pauseReason: string | null;
  step: number;
  steps: number[];
  targeted: number;
  failureThreshold: number | null;
  counts: Record<string, number>;
  createdAt: string | null;
}

/** Each job state in the order a job goes through them, with the words the page uses. */
export const JOB_STATE_LABELS: ReadonlyArray<[string, string]> = [
  ['pending', 'Pending'],
  ['notified', 'Notified'],
  ['downloading', 'Downloading'],
  ['installing', 'Installing'],
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['timedOut', 'Timed out'],
  ['withdrawn', 'Withdrawn'],
];

export function toCampaign(body: unknown): Campaign {
  const record = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const counts = record.counts && typeof record.counts === 'object' ? (record.counts as Record<string, unknown>) : {};
  return {
    id: String(record.id ?? ''),
    model: text(record.model),
    version: text(record.version),
    status: text(record.status) ?? 'unknown',
    pauseReason: text(record.pauseReason),
    step: Number(record.step) || 1,
    steps: Array.isArray(record.steps) ? record.steps.map(Number).filter(Number.isFinite) : [100],
    targeted: Number(record.targeted) || 0,
    failureThreshold: typeof record.failureThreshold === 'number' ? record.failureThreshold : null,
    counts: Object.fromEntries(Object.entries(counts).map(([state, count]) => [state, Number(count) || 0])),
    createdAt: text(record.createdAt),
  };
}

/** One row per job state, in a job's order; withdrawn only when there are some. */
export function stateRows(campaign: Campaign): CountRow[] {
  return JOB_STATE_LABELS.filter(([state]) => state !== 'withdrawn' || (campaign.counts.withdrawn ?? 0) > 0).map(([state, label]) => ({
    label,
    count: campaign.counts[state] ?? 0,
  }));
}
