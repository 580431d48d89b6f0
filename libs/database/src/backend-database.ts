import { join } from 'node:path';
import { runMigrations } from './data-source.js';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.js';

export interface BackendDatabase {
  url: string;
  /** Set when this process started the embedded cluster (and so must stop it). */
  startedEmbedded?: { port: number; dir: string };
  /** Migrations applied by this call. */
  applied: string[];
  release(): Promise<void>;
}

/**
 * The database the backend uses, for the launcher and every command-line
 * tool alike: DATABASE_URL when set; else the embedded cluster under
 * <dataDir>/pg, the running one when `npm start` is up, or started here (and
 * stopped by `release`). Pending migrations are applied either way.
 */
export async function openBackendDatabase(
  config: { database: { url: string }; dataDir: string },
  onLog?: (line: string) => void,
): Promise<BackendDatabase> {
  let url = config.database.url;
  let release = async (): Promise<void> => undefined;
  let startedEmbedded: BackendDatabase['startedEmbedded'];
  if (!url) {
    const dir = join(config.dataDir, 'pg');
    const running = await runningEmbeddedPostgres(dir);
    if (running) url = running;
    else {
      const embedded = await startEmbeddedPostgres({ dir, onLog });
      url = embedded.url;
      release = () => embedded.stop();
      startedEmbedded = { port: embedded.port, dir };
    }
  }
  try {
    const applied = await runMigrations(url);
    return { url, startedEmbedded, applied, release };
  } catch (error) {
    await release();
    throw error;
  }
}
