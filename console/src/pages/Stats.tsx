import { api } from '../api';
import { BarChart } from '../components/BarChart';
import { ErrorNotice, Loading, useLoad } from '../components/common';
import { toStats } from '../model';

/** Fault statistics by model, code and day (GET /v1/admin/faults/stats), drawn in SVG here; nothing from a CDN. */
export function Stats() {
  const stats = useLoad(async () => toStats(await api<unknown>('faults', 'GET', '/v1/admin/faults/stats')), []);
  return (
    <section aria-labelledby="stats-title">
      <div className="page-head">
        <h1 id="stats-title">Fault statistics</h1>
        <button type="button" className="secondary" onClick={stats.reload}>
          Refresh
        </button>
      </div>
      <ErrorNotice error={stats.error} title="Could not load the statistics" />
      {stats.loading && !stats.data && <Loading what="statistics" />}
      {stats.data && (
        <div className="charts">
          <BarChart id="by-model" title="By model" rows={stats.data.byModel} />
          <BarChart id="by-code" title="By code" rows={stats.data.byCode} />
          <BarChart id="by-day" title="By day" rows={stats.data.byDay} />
        </div>
      )}
    </section>
  );
}
