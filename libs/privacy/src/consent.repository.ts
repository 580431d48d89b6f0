import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** One row of consent_events as stored. */
export interface ConsentEventRow {
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

export interface ConsentStateRow {
  subject_id: string;
  purpose: string;
  granted: boolean;
  policy_version: string;
  at: Date;
  event_seq: number;
}

/** What the live-purpose rule reads of a person: each decided purpose and whether processing is restricted. */
export interface LiveInputRow {
  subject_id: string;
  purpose: string;
  granted: boolean;
  restricted: boolean;
}

/** The consent ledger (consent_events, append-only) and its cached last state per purpose (consent_state). */
@Injectable()
export class ConsentRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async lastEvent(manager: EntityManager, subjectId: string): Promise<{ seq: number; hash: string } | undefined> {
    const [last] = (await manager.query('SELECT seq, hash FROM consent_events WHERE subject_id = $1 ORDER BY seq DESC LIMIT 1', [
      subjectId,
    ])) as Array<{ seq: number; hash: string }>;
    return last;
  }

  /** Appends one event and rewrites the cached state of its purpose; answers the event's id. */
  async append(manager: EntityManager, event: Omit<ConsentEventRow, 'id'>): Promise<string> {
    const [{ id }] = (await manager.query(
      `INSERT INTO consent_events (subject_id, seq, purpose, granted, policy_version, channel, at, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        event.subject_id,
        event.seq,
        event.purpose,
        event.granted,
        event.policy_version,
        event.channel,
        event.at,
        event.prev_hash,
        event.hash,
      ],
    )) as Array<{ id: string }>;
    await manager.query(
      `INSERT INTO consent_state (subject_id, purpose, granted, policy_version, at, event_seq) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (subject_id, purpose) DO UPDATE
         SET granted = EXCLUDED.granted, policy_version = EXCLUDED.policy_version, at = EXCLUDED.at, event_seq = EXCLUDED.event_seq`,
      [event.subject_id, event.purpose, event.granted, event.policy_version, event.at, event.seq],
    );
    return String(id);
  }

  async stateOf(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<ConsentStateRow[]> {
    return (await manager.query(
      'SELECT subject_id, purpose, granted, policy_version, at, event_seq FROM consent_state WHERE subject_id = $1 ORDER BY purpose',
      [subjectId],
    )) as ConsentStateRow[];
  }

  async eventsOf(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<ConsentEventRow[]> {
    return (await manager.query('SELECT * FROM consent_events WHERE subject_id = $1 ORDER BY seq', [subjectId])) as ConsentEventRow[];
  }

  /** Every event of every person, chain by chain (for the ledger check). */
  async allEvents(): Promise<ConsentEventRow[]> {
    return (await this.dataSource.query('SELECT * FROM consent_events ORDER BY subject_id, seq')) as ConsentEventRow[];
  }

  async allStates(): Promise<ConsentStateRow[]> {
    return (await this.dataSource.query('SELECT * FROM consent_state')) as ConsentStateRow[];
  }

  /**
   * The one query behind LawfulBasis: for each of these people, each decided
   * purpose and the restriction flag. A person who never decided anything has no row.
   */
  async liveInputs(subjectIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<LiveInputRow[]> {
    if (subjectIds.length === 0) return [];
    return (await manager.query(
      `SELECT s.subject_id, s.purpose, s.granted, coalesce(r.restricted, false) AS restricted
         FROM consent_state s LEFT JOIN processing_restrictions r ON r.subject_id = s.subject_id
        WHERE s.subject_id = ANY($1::uuid[])`,
      [[...new Set(subjectIds)]],
    )) as LiveInputRow[];
  }
}
