import type { DataSource, EntityManager } from 'typeorm';

/**
 * For unit specs of services and use-cases whose repositories are fakes: a
 * DataSource whose transactions run the callback with one stand-in manager
 * (it is only passed along to the fake repositories, never queried), and
 * which counts the transactions it ran.
 */
export function fakeDataSource(): { dataSource: DataSource; manager: EntityManager; transactions: () => number } {
  let count = 0;
  const manager = { queryRunner: { isTransactionActive: true }, fake: 'manager' } as unknown as EntityManager;
  const dataSource = {
    manager,
    transaction: async (first: unknown, second?: unknown) => {
      count += 1;
      const work = (typeof first === 'function' ? first : second) as (tx: EntityManager) => Promise<unknown>;
      return work(manager);
    },
  } as unknown as DataSource;
  return { dataSource, manager, transactions: () => count };
}

/** Records the order of calls across several fakes, e.g. to check that a lock comes before a read. */
export function callLog(): { calls: string[]; note(call: string): void } {
  const calls: string[] = [];
  return { calls, note: (call) => void calls.push(call) };
}
