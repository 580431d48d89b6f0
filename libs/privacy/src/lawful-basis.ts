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
