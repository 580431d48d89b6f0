import type { DataSource, EntityManager } from 'typeorm';

/** Runs fn in the caller's transaction when it has one, else in a new one. */
export function inTransaction<T>(
  dataSource: DataSource,
  manager: EntityManager | undefined,
  fn: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (manager?.queryRunner?.isTransactionActive) return fn(manager);
  return dataSource.transaction(fn);
}

/**
 * Consent changes take a subject's lock exclusively, personal-data writes
 * share it: a write can never slip in between a withdrawal's check and its
 * erasure. Held until the transaction ends.
 */
export async function lockSubject(manager: EntityManager, subjectId: string, mode: 'exclusive' | 'shared'): Promise<void> {
  const fn = mode === 'exclusive' ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
  await manager.query(`SELECT ${fn}(hashtext($1))`, [`privacy-subject:${subjectId}`]);
}

/** lockSubject for many people at once (a batch of writes); shared only, so the order cannot deadlock. */
export async function lockSubjects(manager: EntityManager, subjectIds: readonly string[], mode: 'shared'): Promise<void> {
  if (subjectIds.length === 0) return;
  if (mode !== 'shared') throw new Error('only shared locks are taken in bulk');
  await manager.query(`SELECT pg_advisory_xact_lock_shared(hashtext('privacy-subject:' || id)) FROM unnest($1::text[]) AS id`, [
    [...subjectIds].sort(),
  ]);
}
