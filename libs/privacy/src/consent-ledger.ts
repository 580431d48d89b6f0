import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConsentRepository, type ConsentEventRow } from './consent.repository.js';
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

const toEvent = (row: ConsentEventRow): ConsentEvent => ({
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
  constructor(private readonly events: ConsentRepository) {}

  /** Appends one event; the caller holds the subject's exclusive lock inside a transaction. */
  async append(
    manager: EntityManager,
    entry: { subjectId: string; purpose: Purpose; granted: boolean; policyVersion: string; channel: string; at?: Date },
  ): Promise<ConsentEvent> {
    const last = await this.events.lastEvent(manager, entry.subjectId);
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
    const id = await this.events.append(manager, {
      subject_id: draft.subjectId,
      seq: draft.seq,
      purpose: draft.purpose,
      granted: draft.granted,
      policy_version: draft.policyVersion,
      channel: draft.channel,
      at: draft.at,
      prev_hash: draft.prevHash,
      hash,
    });
    return { id, ...draft, hash };
  }

  async currentState(subjectId: string, manager?: EntityManager): Promise<ConsentState[]> {
    const rows = await this.events.stateOf(subjectId, manager);
    return rows
      .filter((row) => isPurpose(row.purpose))
      .map((row) => ({
        purpose: row.purpose as Purpose,
        granted: row.granted,
        policyVersion: row.policy_version,
        at: row.at,
      }));
  }

  async history(subjectId: string, manager?: EntityManager): Promise<ConsentEvent[]> {
    return (await this.events.eventsOf(subjectId, manager)).map(toEvent);
  }

  /** Checks every chain and the cached state; an empty list means the ledger is intact. */
  async verify(): Promise<{ events: number; subjects: number; problems: LedgerProblem[] }> {
    const rows = await this.events.allEvents();
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
    const cached = await this.events.allStates();
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
