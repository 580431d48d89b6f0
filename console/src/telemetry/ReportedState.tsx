import { formatTime } from '../model';

/**
 * During an open visit: the appliance's reported state as the visit read carries it (`reported` of
 * GET /v1/tech/visits/:id), one row per point with its value and when the appliance reported it.
 */
export function ReportedState({ reported }: { reported: Record<string, { value: boolean | number | string; at: string }> }) {
  const points = Object.entries(reported).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section aria-labelledby="reported-state-title" className="reported-state">
      <h2 id="reported-state-title">Current state</h2>
      <p className="muted">
        What the appliance last reported of each setting and reading; the owner can see in their access log that you looked.
      </p>
      {points.length === 0 ? (
        <p className="empty">The appliance has not reported its state.</p>
      ) : (
        <table aria-label="Reported state">
          <thead>
            <tr>
              <th scope="col">Point</th>
              <th scope="col">Value</th>
              <th scope="col">Reported</th>
            </tr>
          </thead>
          <tbody>
            {points.map(([point, { value, at }]) => (
              <tr key={point}>
                <th scope="row" className="mono">
                  {point}
                </th>
                <td data-testid={`reported-${point}`}>{typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value)}</td>
                <td>
                  <time dateTime={at}>{formatTime(at)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
