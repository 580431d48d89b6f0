import { DataSource, type DataSourceOptions, type EntitySchema, type MixedList } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = MixedList<Function | string | EntitySchema>;

export function dataSourceOptions(url: string, entities: EntityList = [], logQueries = false): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: logQueries ? ['query', 'error'] : false,
    extra: { max: 10, application_name: 'appliance-backend' },
  };
}

/** Applies every pending migration; returns the names applied now. */
export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(url));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
