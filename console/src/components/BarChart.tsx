import type { CountRow } from '../model';

/**
 * Horizontal bars drawn in SVG: each bar carries its label and count as text,
 * so the chart reads without colour, and a table below gives the same numbers.
 */
export function BarChart({
  title,
  rows,
  id,
  unit = 'report',
  empty = 'No fault reports yet.',
}: {
  title: string;
  rows: CountRow[];
  id: string;
  /** What is counted, singular ("report", "device"). */
  unit?: string;
  empty?: string;
}) {
  const max = Math.max(1, ...rows.map((row) => row.count));
  const rowHeight = 28;
  const labelWidth = 38; // percent of the width kept for labels
  const height = rows.length * rowHeight + 8;
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>
        <h3>{title}</h3>
        <span className="muted">
          {total} {unit}
          {total === 1 ? '' : 's'}
        </span>
      </figcaption>
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <>
          <svg
            role="img"
            aria-label={`${title}: ${rows.map((row) => `${row.label} ${row.count}`).join(', ')}`}
            width="100%"
            height={height}
            data-chart={id}
          >
            {rows.map((row, index) => {
              const y = index * rowHeight + 4;
              const width = (row.count / max) * (100 - labelWidth - 12);
              return (
                <g key={row.label}>
                  <text x="0" y={y + 17} className="chart-label">
                    {row.label.length > 18 ? `${row.label.slice(0, 17)}…` : row.label}
                  </text>
                  <rect x={`${labelWidth}%`} y={y + 3} width={`${Math.max(width, 0.5)}%`} height={rowHeight - 10} className="chart-bar" />
                  <text x={`${labelWidth + width + 1.5}%`} y={y + 17} className="chart-value">
                    {row.count}
                  </text>
                </g>
              );
            })}
          </svg>
          <details>
            <summary>Show as a table</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">{title.replace(/^By /, '')}</th>
                  <th scope="col">{`${unit[0].toUpperCase()}${unit.slice(1)}s`}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.label}>
                    <td>{row.label}</td>
                    <td>{row.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </figure>
  );
}
