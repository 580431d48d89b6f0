import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorNotice, Loading } from '../components/common';
import { LineChart } from './LineChart';

interface StatisticsBucket {
  at: string;
  devices: number;
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
}

interface PointDefinition {
  id: string;
  type: string;
  history: boolean;
  unit?: string;
}

const RANGES = [
  { id: '24h', label: 'Last 24 hours', hours: 24, bucket: 'hour' },
  { id: '7d', label: 'Last 7 days', hours: 7 * 24, bucket: 'hour' },
  { id: '90d', label: 'Last 90 days', hours: 90 * 24, bucket: 'day' },
] as const;

/**
 * The maker's statistics of appliance readings (GET /v1/admin/telemetry/aggregates on provisioning): a model's
 * numeric history point per hour or day, average with its range. Only readings of owners who allowed
 * product_improvement when they arrived are in them, and buckets of fewer than five appliances are left out.
 */
export function ApplianceStats() {
  const [model, setModel] = useState('HT1');
  const [range, setRange] = useState<(typeof RANGES)[number]['id']>('7d');
  const [points, setPoints] = useState<PointDefinition[]>();
  const [point, setPoint] = useState('');
  const [result, setResult] = useState<{ buckets: StatisticsBucket[]; point: PointDefinition; bucket: string }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function loadModel(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    try {
      const definition = await api<{ points: PointDefinition[] }>('provisioning', 'GET', `/v1/models/${encodeURIComponent(model.trim())}`);
      const numeric = definition.points.filter((entry) => entry.history && (entry.type === 'number' || entry.type === 'integer'));
      setPoints(numeric);
      setPoint(numeric[0]?.id ?? '');
    } catch (failure) {
      setPoints(undefined);
      setError(failure);
    }
  }

  async function show(event: FormEvent) {
    event.preventDefault();
    const chosen = points?.find((entry) => entry.id === point);
    if (!chosen) return;
    const span = RANGES.find((entry) => entry.id === range)!;
    const to = new Date();
    const from = new Date(to.getTime() - span.hours * 3600_000);
    const query = new URLSearchParams({ model: model.trim(), point, bucket: span.bucket, from: from.toISOString(), to: to.toISOString() });
    setBusy(true);
    setError(undefined);
    try {
      const buckets = await api<StatisticsBucket[]>('provisioning', 'GET', `/v1/admin/telemetry/aggregates?${query.toString()}`);
      setResult({ buckets, point: chosen, bucket: span.bucket });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="appliance-stats-title">
      <div className="page-head">
        <h1 id="appliance-stats-title">Appliance statistics</h1>
      </div>
      <p className="muted">
        Readings of appliances whose owners allowed product improvement when the readings arrived. Hours or days with fewer than five
        appliances are not shown. No serial numbers, no people.
      </p>
      <form className="panel inline-form" onSubmit={loadModel} aria-label="Appliance model">
        <label htmlFor="stats-model">Model</label>
        <input id="stats-model" value={model} onChange={(event) => setModel(event.target.value)} autoComplete="off" />
        <button type="submit" className="secondary">
          Load points
        </button>
      </form>
      <ErrorNotice error={error} title="Could not load the statistics" />
      {points && points.length === 0 && <p className="empty">Model {model} keeps no numeric readings.</p>}
      {points && points.length > 0 && (
        <form className="panel inline-form" onSubmit={show} aria-label="What to show">
          <label htmlFor="stats-point">Reading</label>
          <select id="stats-point" value={point} onChange={(event) => setPoint(event.target.value)}>
            {points.map((entry) => (
              <option key={entry.id} value={entry.id}>
                {entry.id}
                {entry.unit ? ` (${entry.unit})` : ''}
              </option>
            ))}
          </select>
          <label htmlFor="stats-range">Period</label>
          <select id="stats-range" value={range} onChange={(event) => setRange(event.target.value as typeof range)}>
            {RANGES.map((entry) => (
              <option key={entry.id} value={entry.id}>
                {entry.label}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy}>
            Show
          </button>
        </form>
      )}
      {busy && <Loading what="statistics" />}
      {result &&
        (result.buckets.length === 0 ? (
          <p className="empty" data-testid="no-statistics">
            No {result.bucket === 'hour' ? 'hour' : 'day'} in this period has readings of five appliances or more.
          </p>
        ) : (
          <LineChart
            id="appliance-statistics"
            title={`${model.trim()} · ${result.point.id}, average per ${result.bucket} (band: minimum to maximum)`}
            unit={result.point.unit}
            valueLabel="Average"
            points={result.buckets.map((bucket) => ({
              at: bucket.at,
              value: bucket.avg ?? 0,
              min: bucket.min,
              max: bucket.max,
              note: `${bucket.devices} appliances, ${bucket.count} readings`,
            }))}
          />
        ))}
    </section>
  );
}
