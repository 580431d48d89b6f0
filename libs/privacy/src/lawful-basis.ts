import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { PURPOSES, type Purpose } from './purposes.js';

/**
 * Which purposes are live for a person, from the consent state and the
 * restriction flag: `service` while the account exists (accepted at first
 * login, ended only by erasure); any other purpose when granted, the account
 * exists and processing is not restricted. The SQL function
 * privacy_is_live(subject, purpose) states the same rule.
 */
@Injectable()
export class LawfulBasis {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async livePurposes(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<Set<Purpose>> {
    const rows = (await manager.query(
      `SELECT s.purpose, s.granted, coalesce(r.restricted, false) AS restricted
         FROM consent_state s LEFT JOIN processing_restrictions r ON r.subject_id = s.subject_id
        WHERE s.subject_id = $1`,
      [subjectId],
    )) as Array<{ purpose: string; granted: boolean; restricted: boolean }>;
    return livePurposesFrom(
      new Map(rows.map((row) => [row.purpose, row.granted])),
      rows.some((row) => row.restricted),
    );
  }

  /** livePurposes for many people in one query (batched writes). */
  async livePurposesOfMany(
    subjectIds: readonly string[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Map<string, Set<Purpose>>> {
    const answer = new Map<string, Set<Purpose>>();
    if (subjectIds.length === 0) return answer;
    const rows = (await manager.query(
      `SELECT s.subject_id, s.purpose, s.granted, coalesce(r.restricted, false) AS restricted
         FROM consent_state s LEFT JOIN processing_restrictions r ON r.subject_id = s.subject_id
        WHERE s.subject_id = ANY($1::uuid[])`,
      [[...new Set(subjectIds)]],
    )) as Array<{ subject_id: string; purpose: string; granted: boolean; restricted: boolean }>;
    const bySubject = new Map<string, { granted: Map<string, boolean>; restricted: boolean }>();
    for (const row of rows) {
      const entry = bySubject.get(row.subject_id) ?? { granted: new Map<string, boolean>(), restricted: false };
      entry.granted.set(row.purpose, row.granted);
      entry.restricted ||= row.restricted;
      bySubject.set(row.subject_id, entry);
    }
    for (const subjectId of subjectIds) {
      const entry = bySubject.get(subjectId);
      answer.set(subjectId, entry ? livePurposesFrom(entry.granted, entry.restricted) : new Set());
    }
    return answer;
  }

  async isRestricted(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const [row] = (await manager.query('SELECT restricted FROM processing_restrictions WHERE subject_id = $1', [subjectId])) as Array<{
      restricted: boolean;
    }>;
    return row?.restricted ?? false;
  }
}

/** The rule itself, shared by the service and the proof test's model. */
export function livePurposesFrom(granted: ReadonlyMap<string, boolean>, restricted: boolean): Set<Purpose> {
  if (!granted.get('service')) return new Set();
  const live = new Set<Purpose>(['service']);
  if (restricted) return live;
  for (const purpose of PURPOSES) if (granted.get(purpose)) live.add(purpose);
  return live;
}
