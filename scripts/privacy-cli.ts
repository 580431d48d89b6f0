import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfigOrExit } from '#libs/config';
import { dataSourceOptions, openBackendDatabase } from '#libs/database';
import { loadPrivacyConfig, PrivacyCatalog } from '#libs/privacy';
import { PROVISIONING_ENTITIES } from '../apps/provisioning/src/privacy-entities.js';

/** The catalog of the code (every entity provisioning maps), as the apps build it at boot. */
export function buildCatalog(): PrivacyCatalog {
  void PROVISIONING_ENTITIES; // importing the entities registers their tags
  return new PrivacyCatalog(loadPrivacyConfig());
}

/**
 * Runs `work` against the backend's database (DATABASE_URL, or the embedded
 * PostgreSQL under <dataDir>/pg, running or not). Exits 1 with a message on
 * configuration errors.
 */
export async function withDatabase<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const database = await openBackendDatabase(config);
  const url = database.url;
  const stopEmbedded = () => database.release();
  const dataSource = new DataSource(dataSourceOptions(url, PROVISIONING_ENTITIES));
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
    await stopEmbedded();
  }
}
