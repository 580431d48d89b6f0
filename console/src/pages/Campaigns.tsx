import { useEffect, useState } from 'react';
import { api } from '../api';
import { BarChart } from '../components/BarChart';
import { ErrorNotice, Loading, SuccessNotice, useLoad } from '../components/common';
import { stateRows, toCampaign, type Campaign } from '../campaign-model';
import { formatTime } from '../model';

const STATUS_MARK: Record<string, string> = { running: '▶', paused: '❚❚', completed: '✓', cancelled: '✕' };

/**
 * Firmware campaigns (provisioning's GET /v1/admin/campaigns): each one's jobs
 * counted by state as a chart, and pause, resume and cancel.
 */
export function Campaigns() {
  const campaigns = useLoad(async () => (await api<unknown[]>('provisioning', 'GET', '/v1/admin/campaigns')).map(toCampaign), []);
  const [done, setDone] = useState('');
  return (
    <section aria-labelledby="campaigns-title">
      <div className="page-head">
        <h1 id="campaigns-title">Firmware campaigns</h1>
        <button type="button" className="secondary" onClick={campaigns.reload}>
          Refresh
        </button>
      </div>
      {done && <SuccessNotice>{done}</SuccessNotice>}
      <ErrorNotice error={campaigns.error} title="Could not load the campaigns" />
      {campaigns.loading && !campaigns.data && <Loading what="campaigns" />}
      {campaigns.data && campaigns.data.length === 0 && <p className="empty">No firmware campaigns yet.</p>}
      {campaigns.data && campaigns.data.length > 0 && (
        <ul className="cards" aria-label="Firmware campaigns">
          {campaigns.data.map((campaign) => (
            <CampaignCard
              key={campaign.id}
              campaign={campaign}
              onChanged={(message) => {
                setDone(message);
                campaigns.reload();
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function CampaignCard({ campaign: listed, onChanged }: { campaign: Campaign; onChanged(message: string): void }) {
  // The answer to an action is the campaign as it now is: shown at once, until the list's own reload arrives.
  const [answered, setAnswered] = useState<Campaign>();
  useEffect(() => setAnswered(undefined), [listed]);
  const campaign = answered ?? listed;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [confirming, setConfirming] = useState(false);
  const title = `${campaign.model ?? 'Firmware'} → ${campaign.version ?? '?'}`;
  const titleId = `campaign-${campaign.id}`;

  async function act(action: 'pause' | 'resume' | 'cancel', message: string) {
    setBusy(true);
    setError(undefined);
    try {
      setAnswered(
        toCampaign(await api<unknown>('provisioning', 'POST', `/v1/admin/campaigns/${encodeURIComponent(campaign.id)}/${action}`)),
      );
      setConfirming(false);
      onChanged(message);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const open = campaign.status === 'running' || campaign.status === 'paused';
  return (
    <li className="card campaign" data-campaign={campaign.id} aria-labelledby={titleId}>
      <div className="campaign-head">
        <h2 id={titleId} className="card-title">
          {title}
        </h2>
        <span className={`badge status-${campaign.status}`}>
          <span aria-hidden="true">{STATUS_MARK[campaign.status] ?? '■'} </span>
          {campaign.status}
        </span>
      </div>
      <p className="muted">
        Step {campaign.step} of {campaign.steps.length} ({campaign.steps.map((percent) => `${percent}%`).join(', ')}) · {campaign.targeted}{' '}
        device{campaign.targeted === 1 ? '' : 's'} targeted · started {formatTime(campaign.createdAt)}
      </p>
      {campaign.status === 'paused' && (
        <p className="notice notice-info" role="note">
          {campaign.pauseReason === 'failureThreshold'
            ? `Paused by itself: failures in step ${campaign.step} went above ${Math.round((campaign.failureThreshold ?? 0) * 100)}%. Resume to go on anyway, or cancel.`
            : 'Paused by an admin. No further step starts until it is resumed.'}
        </p>
      )}
      <BarChart id={`jobs-${campaign.id}`} title="Jobs by state" rows={stateRows(campaign)} unit="device" empty="No jobs." />
      <ErrorNotice error={error} title="Could not change the campaign" />
      {open && !confirming && (
        <div className="row campaign-actions">
          {campaign.status === 'running' && (
            <button type="button" className="secondary" disabled={busy} onClick={() => act('pause', `${title} paused.`)}>
              Pause
            </button>
          )}
          {campaign.status === 'paused' && (
            <button type="button" disabled={busy} onClick={() => act('resume', `${title} resumed.`)}>
              Resume
            </button>
          )}
          <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming(true)}>
            Cancel campaign
          </button>
        </div>
      )}
      {open && confirming && (
        <div className="confirm" role="group" aria-label="Confirm cancelling">
          <p>Cancel {title} for good? Devices that have not started are withdrawn; those already updating finish.</p>
          <div className="row campaign-actions">
            <button type="button" className="danger" disabled={busy} onClick={() => act('cancel', `${title} cancelled.`)}>
              Yes, cancel it
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      )}
    </li>
  );
}
