import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { ErrorNotice, Loading, SeverityBadge, SuccessNotice, useLoad } from '../components/common';
import { formatTime, type FaultReport, type VisitDetail } from '../model';
import { followLink, href } from '../router';
import { VisitReadings } from '../telemetry/VisitReadings';
import { ReportedState } from '../telemetry/ReportedState';

const DIAGNOSTIC_LABELS: Record<string, string> = {
  mac: 'Device MAC',
  routerMac: 'Router MAC',
  wifiName: 'WiFi name',
  rssi: 'Signal (RSSI)',
  ip: 'IP address',
};

/** One visit (GET /v1/tech/visits/:id): device, fault reports as stored, contact only under consent, and completion. */
export function Visit({ id }: { id: string }) {
  const visit = useLoad(() => api<VisitDetail>('faults', 'GET', `/v1/tech/visits/${encodeURIComponent(id)}`), [id]);
  const [completed, setCompleted] = useState(false);

  if (completed) {
    return (
      <section aria-labelledby="visit-title">
        <h1 id="visit-title">Visit completed</h1>
        <SuccessNotice>The visit is closed. You no longer have access to its details.</SuccessNotice>
        <p>
          <a href={href('/visits')} onClick={(event) => followLink(event, '/visits')}>
            Back to my open visits
          </a>
        </p>
      </section>
    );
  }
  if (visit.error instanceof ApiError && (visit.error.status === 403 || visit.error.status === 404)) {
    return <NoAccess error={visit.error} />;
  }
  return (
    <section aria-labelledby="visit-title">
      <p className="crumbs">
        <a href={href('/visits')} onClick={(event) => followLink(event, '/visits')}>
          ← My open visits
        </a>
      </p>
      <ErrorNotice error={visit.error} title="Could not load this visit" />
      {visit.loading && !visit.data && <Loading what="the visit" />}
      {visit.data && <VisitBody detail={visit.data} onCompleted={() => setCompleted(true)} />}
    </section>
  );
}

function NoAccess({ error }: { error: ApiError }) {
  return (
    <section aria-labelledby="visit-title" className="no-access">
      <h1 id="visit-title">
        <span aria-hidden="true">⊘ </span>Not yours
      </h1>
      <div className="notice notice-error" role="alert">
        <p>
          {error.status === 404
            ? 'There is no such visit.'
            : 'You have no access to this visit: it is not assigned to you, or it has been completed.'}
        </p>
        {error.message && <p className="muted">Server said: {error.message}</p>}
      </div>
      <p>
        <a href={href('/visits')} onClick={(event) => followLink(event, '/visits')}>
          Back to my open visits
        </a>
      </p>
    </section>
  );
}

function VisitBody({ detail, onCompleted }: { detail: VisitDetail; onCompleted(): void }) {
  const { repair, device, contact, faults } = detail;
  return (
    <>
      <h1 id="visit-title">Visit: {device.model}</h1>
      <dl className="facts">
        <div>
          <dt>Model</dt>
          <dd>{device.model}</dd>
        </div>
        <div>
          <dt>Serial number (SN)</dt>
          <dd className="mono">{device.sn ?? '—'}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{repair.status}</dd>
        </div>
        {repair.createdAt && (
          <div>
            <dt>Opened</dt>
            <dd>{formatTime(repair.createdAt)}</dd>
          </div>
        )}
      </dl>
      {repair.description && (
        <>
          <h2>Owner's description</h2>
          <p className="description">{repair.description}</p>
        </>
      )}
      <h2>Owner contact</h2>
      {contact ? (
        <dl className="facts" aria-label="Owner contact">
          <div>
            <dt>Name</dt>
            <dd>{contact.name || '—'}</dd>
          </div>
          <div>
            <dt>Phone</dt>
            <dd>{contact.phone ? <a href={`tel:${contact.phone}`}>{contact.phone}</a> : '—'}</dd>
          </div>
        </dl>
      ) : (
        <p className="notice notice-info" data-testid="no-contact">
          <span aria-hidden="true">ℹ </span>The owner has not shared contact details for this visit.
        </p>
      )}
      <h2>Fault reports ({faults.length})</h2>
      {faults.length === 0 ? <p className="empty">No fault reports are stored for this device.</p> : <FaultList faults={faults} />}
      <ReportedState reported={detail.reported ?? {}} />
      <VisitReadings id={repair.id} />
      <CompleteVisit id={repair.id} onCompleted={onCompleted} />
    </>
  );
}

function FaultList({ faults }: { faults: FaultReport[] }) {
  return (
    <ol className="faults" aria-label="Fault reports">
      {faults.map((fault, index) => {
        const diagnostics = Object.entries(fault.diagnostics ?? {}).filter(
          ([, value]) => value !== null && value !== undefined && value !== '',
        );
        return (
          <li key={fault.reportId ?? fault.id ?? index} className="fault">
            <div className="fault-head">
              <SeverityBadge severity={fault.severity} />
              <span className="mono fault-code">Code {fault.code}</span>
              <time dateTime={fault.occurredAt ?? fault.occurredOn}>{formatTime(fault.occurredAt ?? fault.occurredOn)}</time>
            </div>
            {fault.firmware && <p className="muted">Firmware {fault.firmware}</p>}
            {diagnostics.length > 0 ? (
              <dl className="diagnostics" aria-label="Diagnostics">
                {diagnostics.map(([key, value]) => (
                  <div key={key}>
                    <dt>{DIAGNOSTIC_LABELS[key] ?? key}</dt>
                    <dd className="mono">{String(value)}</dd>
                  </div>
                ))}
              </dl>
            ) : fault.stored === 'deidentified' ? (
              <p className="muted">De-identified record: no diagnostics kept (the owner has not allowed them).</p>
            ) : (
              <p className="muted">No diagnostics in this report.</p>
            )}
          </li>
        );
      })}
    </ol>
  );
}

function CompleteVisit({ id, onCompleted }: { id: string; onCompleted(): void }) {
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [problem, setProblem] = useState('');

  async function complete(event: FormEvent) {
    event.preventDefault();
    if (!notes.trim()) {
      setProblem('Write what was done before completing the visit.');
      return;
    }
    setProblem('');
    setBusy(true);
    setError(undefined);
    try {
      await api('faults', 'POST', `/v1/tech/visits/${encodeURIComponent(id)}/complete`, { body: { notes: notes.trim() } });
      onCompleted();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel" onSubmit={complete} noValidate aria-labelledby="complete-title">
      <h2 id="complete-title">Complete visit</h2>
      <p className="muted">After completing, the visit and its details are no longer available to you.</p>
      <ErrorNotice error={error} title="Could not complete the visit" />
      <label htmlFor="notes">Notes</label>
      <textarea
        id="notes"
        rows={4}
        value={notes}
        onChange={(event) => setNotes(event.target.value)}
        aria-invalid={!!problem}
        aria-describedby={problem ? 'notes-problem' : undefined}
      />
      {problem && (
        <p id="notes-problem" className="field-error" role="alert">
          {problem}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Completing…' : 'Complete visit'}
      </button>
    </form>
  );
}
