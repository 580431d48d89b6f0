import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '#libs/config';
import { CredentialCache, PresenceRecorder, sqlCredentialLoader } from '#libs/devices';

/**
 * The broker's two uses of the device registry, both owned by libs/devices:
 * the credential cache (reads of secret hashes, batched) and the presence
 * recorder (batched writes of online / last seen). This is the only file of
 * the broker that hands libs/devices its database.
 */
export function openDeviceRegistry(dataSource: DataSource, config: AppConfig, log: Logger) {
  const credentials = new CredentialCache(sqlCredentialLoader(dataSource), {
    ttlMs: config.mqtt.authCacheTtlSeconds * 1000,
    maxEntries: config.mqtt.authCacheMaxEntries,
  });
  const presence = new PresenceRecorder(dataSource, config.mqtt.presenceFlushMs, (error) =>
    log.warn({ err: error }, 'presence write failed; retrying'),
  );
  return { credentials, presence };
}
