/** A point of a time chart: its time, its value, and (for a summary) the range it spans. */
export interface ChartPoint {
  at: string;
  value: number;
  min?: number | null;
  max?: number | null;
  /** Extra words for the table row (e.g. "37 appliances"). */
  note?: string;
}

const WIDTH = 640;
const HEIGHT = 240;
const PAD = { left: 80, right: 16, top: 22, bottom: 44 };

function formatAxisTime(at: number, spanMs: number): string {
  const date = new Date(at);
  const iso = date.toISOString();
  return spanMs > 2 * 24 * 3600_000 ? iso.slice(5, 10) : iso.slice(11, 16);
}

function formatValue(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/**
 * A time series drawn in SVG: the values as a line with a mark on each
 * point, the range of each summary as a band, axis labels as text; the same
 * numbers in a table below, so nothing depends on reading the picture or
 * its colours. Scales to its box from a 375 px phone to a desktop.
 */
export function LineChart({
  id,
  title,
  unit,
  points,
  valueLabel = 'Value',
}: {
  id: string;
  title: string;
  unit?: string;
  points: ChartPoint[];
  valueLabel?: string;
}) {
  if (points.length === 0) return null;
  const times = points.map((point) => Date.parse(point.at));
  const low = Math.min(...points.map((point) => point.min ?? point.value));
  const high = Math.max(...points.map((point) => point.max ?? point.value));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = Math.max(1, last - first);
  const spread = high - low || Math.max(1, Math.abs(high));
  const x = (at: number) => PAD.left + ((at - first) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => HEIGHT - PAD.bottom - ((value - low) / spread) * (HEIGHT - PAD.top - PAD.bottom);
  const line = points
    .map((point, index) => `${index === 0 ? 'M' : 'L'}${x(times[index]).toFixed(1)},${y(point.value).toFixed(1)}`)
    .join(' ');
  const banded = points.some((point) => point.min !== undefined && point.min !== null && point.max !== undefined && point.max !== null);
  const band = banded
    ? [
        ...points.map(
          (point, index) => `${index === 0 ? 'M' : 'L'}${x(times[index]).toFixed(1)},${y(point.max ?? point.value).toFixed(1)}`,
        ),
        ...[...points]
          .reverse()
          .map((point, index) => `L${x(times[points.length - 1 - index]).toFixed(1)},${y(point.min ?? point.value).toFixed(1)}`),
        'Z',
      ].join(' ')
    : '';
  const suffix = unit ? ` ${unit}` : '';
  const ticks = [low, low + spread / 2, low + spread];
  return (
    <figure className="chart line-chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>
        <h3>{title}</h3>
        <span className="muted">
          {points.length} point{points.length === 1 ? '' : 's'}, {formatValue(low)}–{formatValue(high)}
          {suffix}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        data-chart={id}
        aria-label={`${title}: ${points.length} points from ${points[0].at} to ${points[points.length - 1].at}, between ${formatValue(low)} and ${formatValue(high)}${suffix}`}
      >
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} className="chart-grid" />
            <text x={PAD.left - 8} y={y(tick) + 6} textAnchor="end" className="chart-label">
              {formatValue(tick)}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={HEIGHT - 8} className="chart-label">
          {formatAxisTime(first, span)}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end" className="chart-label">
          {formatAxisTime(last, span)}
        </text>
        {banded && <path d={band} className="chart-band" />}
        <path d={line} className="chart-line" fill="none" />
        {points.map((point, index) => (
          <circle key={point.at} cx={x(times[index])} cy={y(point.value)} r={points.length > 60 ? 1.5 : 3} className="chart-dot" />
        ))}
      </svg>
      <details>
        <summary>Show as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              <th scope="col">
                {valueLabel}
                {suffix}
              </th>
              {banded && <th scope="col">Range</th>}
              {points.some((point) => point.note) && <th scope="col">Notes</th>}
            </tr>
          </thead>
          <tbody>
            {points.map((point) => (
              <tr key={point.at}>
                <td>{point.at.replace('T', ' ').slice(0, 16)}</td>
                <td>{formatValue(point.value)}</td>
                {banded && (
                  <td>
                    {formatValue(point.min ?? point.value)}–{formatValue(point.max ?? point.value)}
                  </td>
                )}
                {points.some((entry) => entry.note) && <td>{point.note ?? ''}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
