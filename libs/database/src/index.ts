// The system of record: TypeORM data source options, migrations (never
// `synchronize`) and the embedded PostgreSQL used when DATABASE_URL is unset.
export { dataSourceOptions, runMigrations, type EntityList } from './data-source.js';
export { DatabaseModule, databaseHealthCheck, healthChecksProvider } from './database.module.js';
export { ensureDatabase, freePort, runningEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
export { openBackendDatabase, type BackendDatabase } from './backend-database.js';
export { relocatedClusterHome } from './embedded-postgres-root.js';
