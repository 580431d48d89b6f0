import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule, loadConfig, type AppConfig } from '#libs/config';
import { DatabaseModule } from '#libs/database';
import { DEVICES_ENTITIES, DevicesPrivacyModule } from '#libs/devices';
import { FAULTS_ENTITIES, FaultsPrivacyModule } from '#libs/faults';
import { FIRMWARE_ENTITIES } from '#libs/firmware';
import { IDENTITY_ENTITIES, IdentityPrivacyModule } from '#libs/identity';
import { PrivacyModule } from '#libs/privacy';
import { TELEMETRY_ENTITIES, TelemetryPrivacyModule } from '#libs/telemetry';

/**
 * Every entity provisioning maps. Importing an entity is what puts its
 * @PersonalData tags in this process's catalog, and provisioning serves the
 * rights (withdrawal, export, DELETE /v1/me), so a context whose tables hold
 * personal data adds its entity list HERE, even when another app writes them.
 * The privacy CLIs (datamap, retention) read the same list.
 */
export const PROVISIONING_ENTITIES = [
  ...IDENTITY_ENTITIES,
  ...DEVICES_ENTITIES,
  ...FAULTS_ENTITIES,
  ...FIRMWARE_ENTITIES,
  ...TELEMETRY_ENTITIES,
];

/**
 * The module of each context that adds to the rights (its @ErasureHook and
 * @ExportSection providers). Provisioning imports them all, so a context
 * whose data needs more than NULL on erasure, or has an export section, adds
 * its module HERE too, next to its entities.
 */
export const PRIVACY_PARTICIPANTS = [IdentityPrivacyModule, DevicesPrivacyModule, FaultsPrivacyModule, TelemetryPrivacyModule];

@Module({})
class PrivacyRightsModule {}

/**
 * The privacy services with every context's part in them, on a database and
 * without the HTTP and MQTT sides: what the privacy CLIs run (retention,
 * ledger check). `config` is the app's (the CLIs pass theirs; by default it
 * is loaded from config/ and the environment), since hooks may need keys
 * from it. Close it when done.
 */
export function openPrivacyContext(databaseUrl: string, config: AppConfig = loadConfig()): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(
    {
      module: PrivacyRightsModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl, PROVISIONING_ENTITIES),
        PrivacyModule,
        ...PRIVACY_PARTICIPANTS,
      ],
    },
    { logger: false, abortOnError: false },
  );
}
