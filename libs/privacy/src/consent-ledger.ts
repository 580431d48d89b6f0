import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { isPurpose, type Purpose } from './purposes.js';

export interface ConsentEvent {
  id: string;
  subjectId: string;
  seq: number;
  purpose: Purpose;
  granted: boolean;
  policyVersion: string;
  channel: string;
  at: Date;
  prevHash: string;
  hash: string;
}

export interface ConsentState {
  purpose: Purpose;
  granted: boolean;
  policyVersion: string;
  at: Date;
}

export interface LedgerProblem {
  /** consent_events id, or the consent_state key when the cached state is wrong. */
  row: string;
  subjectId: string;
  reason: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The hash of an event: its content plus the previous event's hash of the same person. */
export function eventHash(event: Omit<ConsentEvent, 'id' | 'hash'>): string {
  const content = [
    event.subjectId,
    event.seq,
    event.purpose,
    event.granted,
    event.policyVersion,
    event.channel,
    event.at.toISOString(),
    event.prevHash,
  ];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

interface EventRow {
  id: string;
  subject_id: string;
  seq: number;
  purpose: string;
  granted: boolean;
  policy_version: string;
  channel: string;
  at: Date;
  prev_hash: string;
  hash: string;
}

const toEvent = (row: EventRow): ConsentEvent => ({
  id: String(row.id),
  subjectId: row.subject_id,
  seq: row.seq,
  purpose: row.purpose as Purpose,
  granted: row.granted,
  policyVersion: row.policy_version,
  channel: row.channel,
  at: row.at,
  prevHash: row.prev_hash,
  hash: row.hash,
});

/**
 * Append-only consent events, chained per person by hash; consent_state is
 * a cache of the last event per purpose, rewritten with every append and
 * checked by verify(). The database refuses UPDATE/DELETE on the events
 * (trigger); verify() still catches a row changed by someone who disabled it.
 */
@Injectable()
export class ConsentLedger {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Appends one event; the caller holds the subject's exclusive lock inside a transaction. */
  async append(
    manager: EntityManager,
    entry: { subjectId: string; purpose: Purpose; granted: boolean; policyVersion: string; channel: string; at?: Date },
  ): Promise<ConsentEvent> {
    const [last] = (await manager.query('SELECT seq, hash FROM consent_events WHERE subject_id = $1 ORDER BY seq DESC LIMIT 1', [
      entry.subjectId,
    ])) as Array<{ seq: number; hash: string }>;
    const draft = {
      subjectId: entry.subjectId,
      seq: (last?.seq ?? 0) + 1,
      purpose: entry.purpose,
      granted: entry.granted,
      policyVersion: entry.policyVersion,
      channel: entry.channel,
      at: entry.at ?? new Date(),
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const hash = eventHash(draft);
    const [{ id }] = (await manager.query(
      `INSERT INTO consent_events (subject_id, seq, purpose, granted, policy_version, channel, at, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [draft.subjectId, draft.seq, draft.purpose, draft.granted, draft.policyVersion, draft.channel, draft.at, draft.prevHash, hash],
    )) as Array<{ id: string }>;
    await manager.query(
      `INSERT INTO consent_state (subject_id, purpose, granted, policy_version, at, event_seq) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (subject_id, purpose) DO UPDATE
         SET granted = EXCLUDED.granted, policy_version = EXCLUDED.policy_version, at = EXCLUDED.at, event_seq = EXCLUDED.event_seq`,
      [draft.subjectId, draft.purpose, draft.granted, draft.policyVersion, draft.at, draft.seq],
    );
    return { id: String(id), ...draft, hash };
  }

  async currentState(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<ConsentState[]> {
    const rows = (await manager.query(
      'SELECT purpose, granted, policy_version, at FROM consent_state WHERE subject_id = $1 ORDER BY purpose',
      [subjectId],
    )) as Array<{ purpose: string; granted: boolean; policy_version: string; at: Date }>;
    return rows
      .filter((row) => isPurpose(row.purpose))
      .map((row) => ({
        purpose: row.purpose as Purpose,
        granted: row.granted,
        policyVersion: row.policy_version,
        at: row.at,
      }));
  }

  async history(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<ConsentEvent[]> {
    const rows = (await manager.query('SELECT * FROM consent_events WHERE subject_id = $1 ORDER BY seq', [subjectId])) as EventRow[];
    return rows.map(toEvent);
  }

  /** Checks every chain and the cached state; an empty list means the ledger is intact. */
  async verify(): Promise<{ events: number; subjects: number; problems: LedgerProblem[] }> {
    const rows = (await this.dataSource.query('SELECT * FROM consent_events ORDER BY subject_id, seq')) as EventRow[];
    const problems: LedgerProblem[] = [];
    const derived = new Map<string, { granted: boolean; policyVersion: string; at: Date; seq: number }>();
    let previous: ConsentEvent | undefined;
    const subjects = new Set<string>();
    for (const event of rows.map(toEvent)) {
      subjects.add(event.subjectId);
      const sameSubject = previous?.subjectId === event.subjectId;
      const expectedSeq = sameSubject ? previous!.seq + 1 : 1;
      const expectedPrev = sameSubject ? previous!.hash : GENESIS_HASH;
      const row = `consent_events id=${event.id} (subject ${event.subjectId}, seq ${event.seq})`;
      if (event.seq !== expectedSeq)
        problems.push({ row, subjectId: event.subjectId, reason: `expected seq ${expectedSeq}: an earlier event was deleted` });
      if (event.prevHash !== expectedPrev)
        problems.push({ row, subjectId: event.subjectId, reason: 'prev_hash does not match the previous event' });
      if (eventHash(event) !== event.hash)
        problems.push({ row, subjectId: event.subjectId, reason: 'hash does not match the row content: the row was changed' });
      derived.set(`${event.subjectId}/${event.purpose}`, {
        granted: event.granted,
        policyVersion: event.policyVersion,
        at: event.at,
        seq: event.seq,
      });
      previous = event;
    }
    const cached = (await this.dataSource.query('SELECT * FROM consent_state')) as Array<{
      subject_id: string;
      purpose: string;
      granted: boolean;
      policy_version: string;
      at: Date;
      event_seq: number;
    }>;
    const seen = new Set<string>();
    for (const state of cached) {
      const key = `${state.subject_id}/${state.purpose}`;
      seen.add(key);
      const expected = derived.get(key);
      const row = `consent_state (subject ${state.subject_id}, purpose ${state.purpose})`;
      if (!expected) {
        problems.push({ row, subjectId: state.subject_id, reason: 'no event in the ledger supports this state: its events were deleted' });
      } else if (
        expected.seq !== state.event_seq ||
        expected.granted !== state.granted ||
        expected.policyVersion !== state.policy_version ||
        expected.at.getTime() !== state.at.getTime()
      ) {
        problems.push({
          row,
          subjectId: state.subject_id,
          reason: `differs from the ledger (last event seq ${expected.seq}): state or events were changed`,
        });
      }
    }
    for (const key of derived.keys()) {
      if (!seen.has(key)) {
        const [subjectId, purpose] = key.split('/');
        problems.push({
          row: `consent_state (subject ${subjectId}, purpose ${purpose})`,
          subjectId,
          reason: 'missing although the ledger has events',
        });
      }
    }
    return { events: rows.length, subjects: subjects.size, problems };
  }
}
