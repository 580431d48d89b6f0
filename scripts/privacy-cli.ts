import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '#libs/config';
import { dataSourceOptions, startEmbeddedPostgres } from '#libs/database';
import { loadPrivacyConfig, PrivacyCatalog } from '#libs/privacy';
import { PROVISIONING_ENTITIES } from '../apps/provisioning/src/privacy-entities.js';

/** The catalog of the code (every entity provisioning maps), as the apps build it at boot. */
export function buildCatalog(): PrivacyCatalog {
  void PROVISIONING_ENTITIES; // importing the entities registers their tags
  return new PrivacyCatalog(loadPrivacyConfig());
}

/**
 * Runs `work` against DATABASE_URL, or against the embedded PostgreSQL under
 * <dataDir>/pg when DATABASE_URL is unset (stop `npm start` first: one
 * server per data folder). Exits 1 with a message on configuration errors.
 */
export async function withDatabase<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let url = config.database.url;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dir: join(config.dataDir, 'pg') });
    url = embedded.url;
    stopEmbedded = () => embedded.stop();
  }
  const dataSource = new DataSource(dataSourceOptions(url, PROVISIONING_ENTITIES));
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
    await stopEmbedded?.();
  }
}
