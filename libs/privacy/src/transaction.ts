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
