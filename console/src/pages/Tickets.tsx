import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorNotice, Loading, SuccessNotice, useLoad } from '../components/common';
import { formatTime, type Repair, type Technician } from '../model';
import { listTechnicians, technicianLabel } from '../technicians';

/** Open repair tickets (GET /v1/admin/repairs?status=open) and assigning them (POST /v1/admin/repairs/:id/assign). */
export function Tickets() {
  const tickets = useLoad(() => api<Repair[]>('faults', 'GET', '/v1/admin/repairs?status=open'), []);
  const technicians = useLoad(listTechnicians, []);
  const [assigned, setAssigned] = useState('');
  return (
    <section aria-labelledby="tickets-title">
      <div className="page-head">
        <h1 id="tickets-title">Open tickets</h1>
        <button type="button" className="secondary" onClick={tickets.reload}>
          Refresh
        </button>
      </div>
      {assigned && <SuccessNotice>{assigned}</SuccessNotice>}
      <ErrorNotice error={tickets.error} title="Could not load the open tickets" />
      <ErrorNotice error={technicians.error} title="Could not load the technicians" />
      {tickets.loading && !tickets.data && <Loading what="open tickets" />}
      {tickets.data && tickets.data.length === 0 && <p className="empty">No open tickets.</p>}
      {tickets.data && tickets.data.length > 0 && (
        <ul className="cards" aria-label="Open tickets">
          {tickets.data.map((ticket) => (
            <li key={ticket.id} className="card" data-ticket={ticket.id}>
              <span className="card-title">
                {ticket.model ?? 'Appliance'}
                {ticket.sn ? ` · ${ticket.sn}` : ''}
              </span>
              <span className="card-text">{ticket.description ?? 'No description'}</span>
              <span className="muted">
                Opened {formatTime(ticket.createdAt)} · status {ticket.status}
                {ticket.technicianId ? ' · assigned' : ''}
              </span>
              <AssignForm
                ticket={ticket}
                technicians={technicians.data}
                onAssigned={(who) => {
                  setAssigned(`Ticket assigned to ${who}.`);
                  tickets.reload();
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AssignForm({
  ticket,
  technicians,
  onAssigned,
}: {
  ticket: Repair;
  technicians: Technician[] | undefined;
  onAssigned(who: string): void;
}) {
  const [technicianId, setTechnicianId] = useState(ticket.technicianId ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [problem, setProblem] = useState('');
  const fieldId = `assign-${ticket.id}`;

  async function assign(event: FormEvent) {
    event.preventDefault();
    if (!technicianId.trim()) {
      setProblem('Choose a technician.');
      return;
    }
    setProblem('');
    setBusy(true);
    setError(undefined);
    try {
      await api('faults', 'POST', `/v1/admin/repairs/${encodeURIComponent(ticket.id)}/assign`, {
        body: { technicianId: technicianId.trim() },
      });
      const technician = technicians?.find((candidate) => candidate.id === technicianId.trim());
      onAssigned(technician ? technicianLabel(technician) : 'the technician');
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="assign" onSubmit={assign} noValidate>
      <ErrorNotice error={error} title="Could not assign the ticket" />
      <label htmlFor={fieldId}>Technician</label>
      <div className="row">
        <select id={fieldId} value={technicianId} onChange={(event) => setTechnicianId(event.target.value)} aria-invalid={!!problem}>
          <option value="">{technicians ? (technicians.length ? 'Choose…' : 'No technicians yet') : 'Loading…'}</option>
          {(technicians ?? []).map((technician) => (
            <option key={technician.id} value={technician.id}>
              {technicianLabel(technician)}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy}>
          {busy ? 'Assigning…' : 'Assign'}
        </button>
      </div>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
