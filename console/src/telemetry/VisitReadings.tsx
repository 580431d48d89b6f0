import { api } from '../api';
import { ErrorNotice, Loading, useLoad } from '../components/common';
import { LineChart } from './LineChart';

interface VisitTelemetry {
  from: string;
  to: string;
  points: Array<{ point: string; type: string; unit?: string; readings: Array<{ at: string; value: number | boolean | string }> }>;
}

/**
 * During an open visit: the appliance's readings of the last 24 hours (GET /v1/tech/visits/:id/telemetry), a chart
 * per numeric reading and a list of changes for the others. Opening it is written to the owner's access log.
 */
export function VisitReadings({ id }: { id: string }) {
  const telemetry = useLoad(() => api<VisitTelemetry>('faults', 'GET', `/v1/tech/visits/${encodeURIComponent(id)}/telemetry`), [id]);
  return (
    <section aria-labelledby="visit-readings-title" className="visit-readings">
      <h2 id="visit-readings-title">Readings, last 24 hours</h2>
      <p className="muted">The owner can see in their access log that you looked at these.</p>
      <ErrorNotice error={telemetry.error} title="Could not load the readings" />
      {telemetry.loading && !telemetry.data && <Loading what="readings" />}
      {telemetry.data && telemetry.data.points.length === 0 && (
        <p className="empty">The appliance reported no readings in the last 24 hours.</p>
      )}
      {telemetry.data?.points.map((series) =>
        series.type === 'number' || series.type === 'integer' ? (
          <LineChart
            key={series.point}
            id={`reading-${series.point}`}
            title={series.point}
            unit={series.unit}
            points={series.readings.map((reading) => ({ at: reading.at, value: Number(reading.value) }))}
          />
        ) : (
          <figure key={series.point} className="chart" aria-labelledby={`reading-${series.point}-title`}>
            <figcaption id={`reading-${series.point}-title`}>
              <h3>{series.point}</h3>
              <span className="muted">{series.readings.length} readings</span>
            </figcaption>
            <ol className="reading-changes">
              {series.readings.map((reading) => (
                <li key={reading.at}>
                  <time dateTime={reading.at}>{reading.at.replace('T', ' ').slice(0, 16)}</time> <strong>{String(reading.value)}</strong>
                </li>
              ))}
            </ol>
          </figure>
        ),
      )}
    </section>
  );
}
