import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '#libs/database';

/**
 * One PostgreSQL for the whole run: the server behind DATABASE_URL when set,
 * else an embedded one in a temporary folder. Each suite makes its own
 * database on it (see backend.ts), so suites never see each other's rows.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.TEST_PG_ADMIN_URL = process.env.DATABASE_URL;
    process.stdout.write(`\nend-to-end suites use DATABASE_URL's server\n`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'appliance-test-pg-'));
  await chmod(dir, 0o755);
  const database = await startEmbeddedPostgres({ dir: join(dir, 'pg'), database: 'postgres' });
  process.env.TEST_PG_ADMIN_URL = database.url;
  process.env.TEST_PG_DIR = dir;
  (globalThis as { __embeddedPostgres?: typeof database }).__embeddedPostgres = database;
  process.stdout.write(`\nend-to-end suites use an embedded PostgreSQL on port ${database.port}\n`);
}
