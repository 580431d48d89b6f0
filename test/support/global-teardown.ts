import { rm } from 'node:fs/promises';
import type { EmbeddedDatabase } from '#libs/database';

export default async function globalTeardown(): Promise<void> {
  const database = (globalThis as { __embeddedPostgres?: EmbeddedDatabase }).__embeddedPostgres;
  await database?.stop();
  if (process.env.TEST_PG_DIR) await rm(process.env.TEST_PG_DIR, { recursive: true, force: true });
}
