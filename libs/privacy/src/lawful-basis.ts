import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConsentRepository } from './consent.repository.js';
import { PURPOSES, type Purpose } from './purposes.js';
import { RestrictionRepository } from './restriction.repository.js';

/**
 * Which purposes are live for a person, from the consent state and the
 * restriction flag. The rule itself is livePurposesFrom below; the SQL
 * function privacy_is_live(subject, purpose) (migration Privacy1764400100000)
 * states it for the retention sweep and audits, and
 * test/medium/lawful-basis.medium-spec.ts holds the two equal.
 */
@Injectable()
export class LawfulBasis {
  constructor(
    private readonly consents: ConsentRepository,
    private readonly restrictions: RestrictionRepository,
  ) {}

  async livePurposes(subjectId: string, manager?: EntityManager): Promise<Set<Purpose>> {
    return (await this.livePurposesOfMany([subjectId], manager)).get(subjectId)!;
  }

  /** livePurposes for many people in one query (batched writes). */
  async livePurposesOfMany(subjectIds: readonly string[], manager?: EntityManager): Promise<Map<string, Set<Purpose>>> {
    const bySubject = new Map<string, { granted: Map<string, boolean>; restricted: boolean }>();
    for (const row of await this.consents.liveInputs(subjectIds, manager)) {
      const entry = bySubject.get(row.subject_id) ?? { granted: new Map<string, boolean>(), restricted: false };
      entry.granted.set(row.purpose, row.granted);
      entry.restricted ||= row.restricted;
      bySubject.set(row.subject_id, entry);
    }
    const answer = new Map<string, Set<Purpose>>();
    for (const subjectId of subjectIds) {
      const entry = bySubject.get(subjectId);
      answer.set(subjectId, entry ? livePurposesFrom(entry.granted, entry.restricted) : new Set());
    }
    return answer;
  }

  isRestricted(subjectId: string, manager?: EntityManager): Promise<boolean> {
    return this.restrictions.isRestricted(subjectId, manager);
  }
}

/**
 * The rule: `service` is live from acceptance until the account is erased;
 * any other purpose while it is granted, `service` is live and processing is
 * not restricted.
 */
export function livePurposesFrom(granted: ReadonlyMap<string, boolean>, restricted: boolean): Set<Purpose> {
  if (!granted.get('service')) return new Set();
  const live = new Set<Purpose>(['service']);
  if (restricted) return live;
  for (const purpose of PURPOSES) if (granted.get(purpose)) live.add(purpose);
  return live;
}
