import { Module } from '@nestjs/common';
import { AccessLogService } from './access-log.service.js';
import { PrivacyCatalog } from './catalog.js';
import { ConsentLedger } from './consent-ledger.js';
import { ConsentService } from './consent.service.js';
import { ExportService } from './export.service.js';
import { LawfulBasis } from './lawful-basis.js';
import { PersonalDataEraser } from './personal-data-eraser.js';
import { PersonalDataGuard } from './personal-data-guard.js';
import { PersonalDataWriter } from './personal-data-writer.js';
import { PolicyService } from './policy.service.js';
import { loadPrivacyConfig } from './privacy-config.js';
import { RetentionService } from './retention.service.js';

const services = [
  ConsentLedger,
  LawfulBasis,
  PersonalDataEraser,
  PersonalDataWriter,
  PolicyService,
  ConsentService,
  AccessLogService,
  ExportService,
  RetentionService,
];

/**
 * Privacy services for any app. The catalog (config/privacy.yaml joined with
 * the @PersonalData tags) is built when the module starts, so a bad entry or
 * tag stops the app naming it. PersonalDataGuard refuses TypeORM writes of
 * tagged values made outside PersonalDataWriter. Needs DatabaseModule (global). The hourly
 * RetentionJob is provided by provisioning only.
 */
@Module({
  providers: [{ provide: PrivacyCatalog, useFactory: () => new PrivacyCatalog(loadPrivacyConfig()) }, PersonalDataGuard, ...services],
  exports: [PrivacyCatalog, ...services],
})
export class PrivacyModule {}
