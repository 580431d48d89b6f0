import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { loadConfigOrExit } from '#libs/config';
import { openBackendDatabase } from '#libs/database';
import { loadPrivacyConfig, PrivacyCatalog } from '#libs/privacy';
import { openPrivacyContext, PROVISIONING_ENTITIES } from '../apps/provisioning/src/privacy-entities.js';

/** The catalog of the code (every entity provisioning maps), as the apps build it at boot. */
export function buildCatalog(): PrivacyCatalog {
  void PROVISIONING_ENTITIES; // importing the entities registers their tags
  return new PrivacyCatalog(loadPrivacyConfig());
}

/**
 * Runs `work` with the privacy services (and every context's erasure hooks)
 * on the backend's database (DATABASE_URL, or the embedded PostgreSQL under
 * <dataDir>/pg, running or not). Exits 1 with a message on configuration errors.
 */
export async function withPrivacy<T>(work: (privacy: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const database = await openBackendDatabase(config);
  try {
    const privacy = await openPrivacyContext(database.url, config);
    try {
      return await work(privacy);
    } finally {
      await privacy.close();
    }
  } finally {
    await database.release();
  }
}
