import { Module } from '@nestjs/common';
import { DeviceAccessModule, DeviceStateModule } from '#libs/devices';
import { VisitAccessModule } from '#libs/faults';
import { IdentityDirectoryModule } from '#libs/identity';
import { PrivacyModule } from '#libs/privacy';
import { ReadDeviceTelemetry } from './read-device-telemetry.use-case.js';
import { ReadModelStatistics } from './read-model-statistics.use-case.js';
import { ReadVisitTelemetry } from './read-visit-telemetry.use-case.js';
import { TelemetryIngestRepository } from './telemetry-ingest.repository.js';
import { TelemetryIngestion } from './telemetry-ingestion.js';
import { TelemetryMaintenance } from './telemetry-maintenance.js';
import { TelemetryMetrics } from './telemetry-metrics.js';
import { TelemetryPartitionsRepository } from './telemetry-partitions.repository.js';
import { TelemetryErasure, TelemetryReadingsExport, TelemetrySummariesExport } from './telemetry-privacy.js';
import { TelemetryRetention } from './telemetry-retention.js';
import { TelemetrySeriesRepository } from './telemetry-series.repository.js';
import { TelemetryStatisticsRepository } from './telemetry-statistics.repository.js';
import { TelemetryStore } from './telemetry-store.js';

const repositories = [TelemetryIngestRepository, TelemetrySeriesRepository, TelemetryStatisticsRepository, TelemetryPartitionsRepository];

/** Telemetry's tables (plain SQL: any app's global DatabaseModule will do; provisioning maps TELEMETRY_ENTITIES for the privacy catalog). */
@Module({
  providers: repositories,
  exports: repositories,
})
export class TelemetryStorageModule {}

/** What telemetry adds to the privacy rights: its erasure hook (series, contributor keys, retention by partition) and two export sections. */
@Module({
  imports: [TelemetryStorageModule, PrivacyModule, IdentityDirectoryModule],
  providers: [TelemetryRetention, TelemetryErasure, TelemetryReadingsExport, TelemetrySummariesExport],
  exports: [TelemetryRetention],
})
export class TelemetryPrivacyModule {}

/**
 * Ingestion of devices/+/telemetry, the owner's history, the maker's
 * statistics and the partition maintenance, for the app that consumes
 * telemetry (provisioning); needs ConfigModule and DatabaseModule (global).
 */
@Module({
  imports: [TelemetryStorageModule, TelemetryPrivacyModule, PrivacyModule, DeviceStateModule, IdentityDirectoryModule],
  providers: [TelemetryMetrics, TelemetryStore, TelemetryIngestion, TelemetryMaintenance, ReadDeviceTelemetry, ReadModelStatistics],
  exports: [TelemetryMetrics, TelemetryIngestion, TelemetryMaintenance, ReadDeviceTelemetry, ReadModelStatistics],
})
export class TelemetryModule {}

/** A technician's view of a visit's device readings, for the app that serves visits (fault-feedback). */
@Module({
  imports: [TelemetryStorageModule, VisitAccessModule, DeviceAccessModule, PrivacyModule, IdentityDirectoryModule],
  providers: [ReadVisitTelemetry],
  exports: [ReadVisitTelemetry],
})
export class TelemetryVisitsModule {}
