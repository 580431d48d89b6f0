import { api } from '../api';
import { ErrorNotice, Loading, useLoad } from '../components/common';
import { formatTime, type Repair } from '../model';
import { followLink, href } from '../router';

/** The technician's own open visits (GET /v1/tech/visits). */
export function Visits() {
  const visits = useLoad(() => api<Repair[]>('faults', 'GET', '/v1/tech/visits'), []);
  return (
    <section aria-labelledby="visits-title">
      <div className="page-head">
        <h1 id="visits-title">My open visits</h1>
        <button type="button" className="secondary" onClick={visits.reload}>
          Refresh
        </button>
      </div>
      <ErrorNotice error={visits.error} title="Could not load your visits" />
      {visits.loading && !visits.data ? <Loading what="your visits" /> : null}
      {visits.data && visits.data.length === 0 && <p className="empty">No open visits are assigned to you.</p>}
      {visits.data && visits.data.length > 0 && (
        <ul className="cards" aria-label="Open visits">
          {visits.data.map((visit) => (
            <li key={visit.id} className="card">
              <a href={href(`/visits/${visit.id}`)} onClick={(event) => followLink(event, `/visits/${visit.id}`)} className="card-link">
                <span className="card-title">
                  {visit.model ?? 'Appliance'}
                  {visit.sn ? ` · ${visit.sn}` : ''}
                </span>
                <span className="card-text">{visit.description ?? 'No description'}</span>
                <span className="muted">Opened {formatTime(visit.createdAt)}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
