import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AccessLogRepository } from './access-log.repository.js';
import { AccessLogService } from './access-log.service.js';
import { PrivacyCatalog } from './catalog.js';
import { ConsentLedger } from './consent-ledger.js';
import { ConsentRepository } from './consent.repository.js';
import { ConsentService } from './consent.service.js';
import { EraseAccount } from './erase-account.use-case.js';
import { ExportService } from './export.service.js';
import { LawfulBasis } from './lawful-basis.js';
import { PersonalDataEraser } from './personal-data-eraser.js';
import { PersonalDataGuard } from './personal-data-guard.js';
import { PersonalDataWriter } from './personal-data-writer.js';
import { PersonalDataRepository } from './personal-data.repository.js';
import { PolicyRepository } from './policy.repository.js';
import { PolicyService } from './policy.service.js';
import { loadPrivacyConfig } from './privacy-config.js';
import { PrivacyExtensions } from './privacy-extensions.js';
import { RestrictionRepository } from './restriction.repository.js';
import { RetentionService } from './retention.service.js';

const repositories = [ConsentRepository, RestrictionRepository, AccessLogRepository, PolicyRepository, PersonalDataRepository];

const services = [
  ConsentLedger,
  LawfulBasis,
  PersonalDataEraser,
  PersonalDataWriter,
  PolicyService,
  ConsentService,
  EraseAccount,
  AccessLogService,
  ExportService,
  RetentionService,
];

/**
 * Privacy services for any app. The catalog (config/privacy.yaml joined with
 * the @PersonalData tags) is built when the module starts, so a bad entry or
 * tag stops the app naming it. PersonalDataGuard refuses TypeORM writes of
 * tagged values made outside PersonalDataWriter. The erasure hooks and export
 * sections of other contexts are their own providers, marked @ErasureHook /
 * @ExportSection and found by PrivacyExtensions in whatever modules the app
 * imports. Needs DatabaseModule (global). The hourly RetentionJob is provided
 * by provisioning only.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: PrivacyCatalog, useFactory: () => new PrivacyCatalog(loadPrivacyConfig()) },
    PersonalDataGuard,
    PrivacyExtensions,
    ...repositories,
    ...services,
  ],
  exports: [PrivacyCatalog, ...services],
})
export class PrivacyModule {}
