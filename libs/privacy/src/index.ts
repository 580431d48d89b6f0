// Personal data only under live purposes: the purposes and categories of
// config/privacy.yaml, policy versions, the consent ledger, personal-data
// tags with write-time enforcement, rights (export, erase, restrict),
// retention and the staff access log.
//
// How another context uses it (details in the README, section "Privacy"):
// 1. Tag each personal column of your entity and name the person:
//      @DataSubject() @Column({ name: 'owner_id', type: 'uuid', nullable: true }) ownerId!: string | null;
//      @PersonalData({ category: 'wifi_name', purposes: ['network_setup'], retainFrom: 'endedAt' })
//      @Column({ name: 'wifi_name', type: 'varchar', nullable: true }) wifiName!: string | null;
//    Tagged columns must be nullable. Add the entity list to
//    apps/provisioning/src/privacy-entities.ts so the process that serves the
//    rights erases your table too; then `npm run privacy:datamap -- --write`.
// 2. Write personal rows only through PersonalDataWriter.insert/update(entity,
//    subjectId, ...): fields without a live purpose are stored as null and
//    `dropped` tells you which (e.g. to answer `deidentified`). A TypeORM
//    write of a tagged value outside the writer throws PersonalDataBypassError.
//    LawfulBasis.livePurposes(subjectId) answers "may I process this now?".
// 3. Withdrawal, restriction, retention and account erasure null your tagged
//    columns by themselves. For more than NULL (unbind devices, cut a time to
//    the day) provide a class marked @ErasureHook('<context>') implementing
//    ErasureHook { onAccountErased?, onPurposesEnded?, onRetentionApplied? }.
// 4. A provider marked @ExportSection('<key>') implementing ExportSection
//    { build(manager, subjectId) } adds your part to GET /v1/me/export.
//    Both are found in the application's modules by PrivacyModule.
// 5. Staff reads of a person's data: AccessLogService.record({ subjectId,
//    actorId, actorRole, what, purpose }, manager) in the reading transaction.
export { PURPOSES, isPurpose, type Purpose } from './purposes.js';
export {
  loadPrivacyConfig,
  parsePrivacyConfig,
  privacyConfigPath,
  PrivacyConfigError,
  type PrivacyConfig,
  type CategoryDefinition,
  type Retention,
} from './privacy-config.js';
export {
  PersonalData,
  DataSubject,
  PersonalDataTagError,
  taggedTables,
  type PersonalDataOptions,
  type TaggedColumn,
  type TaggedTable,
} from './personal-data.js';
export { PrivacyCatalog } from './catalog.js';
export { ErasureHook, ExportSection, PrivacyExtensions } from './privacy-extensions.js';
export { ConsentLedger, eventHash, GENESIS_HASH, type ConsentEvent, type ConsentState, type LedgerProblem } from './consent-ledger.js';
export { LawfulBasis, livePurposesFrom } from './lawful-basis.js';
export { PersonalDataEraser } from './personal-data-eraser.js';
export { PersonalDataWriter, type WriteOutcome, type EntityType, type Upsert } from './personal-data-writer.js';
export { PersonalDataGuard, PersonalDataBypassError } from './personal-data-guard.js';
export { PolicyService, POLICY_NOTICE_DAYS, type PolicyOverview, type PolicyVersionView } from './policy.service.js';
export { ConsentService, type ConsentView } from './consent.service.js';
export { EraseAccount } from './erase-account.use-case.js';
export { AccessLogService, type AccessRecord, type AccessLogEntry } from './access-log.service.js';
export { ExportService } from './export.service.js';
export { RetentionService, RetentionJob, type RetentionResult } from './retention.service.js';
export { renderDatamap, embeddedDatamap, replaceDatamap, DATAMAP_START, DATAMAP_END, DATAMAP_COMMAND } from './datamap.js';
export { PrivacyModule } from './privacy.module.js';
export { SetConsentDto, SetRestrictionDto, PublishPolicyDto } from './dto.js';
