// Appliance readings over time: ingestion of devices/<sn>/telemetry in batches into day-partitioned
// tables, the owner's hourly and daily rollups, retention by partition, and the maker's k-anonymous statistics.
export {
  TELEMETRY_ENTITIES,
  TELEMETRY_ERASURE,
  TelemetryReadingEntity,
  TelemetryRollupEntity,
  TelemetrySeriesEntity,
} from './telemetry.entities.js';
export {
  DROP_REASONS,
  judgeReadings,
  TELEMETRY_LIMITS,
  type AcceptedReading,
  type DropReason,
  type JudgedMessage,
} from './reading-rules.js';
export { TelemetryIngestion, type TelemetryReceipt } from './telemetry-ingestion.js';
export { TelemetryMetrics } from './telemetry-metrics.js';
export { TelemetryMaintenance, PARTITION_DAYS_AHEAD } from './telemetry-maintenance.js';
export { partitionName } from './telemetry-partitions.repository.js';
export { TelemetryRetention, type TelemetryRetentionResult } from './telemetry-retention.js';
export { ReadDeviceTelemetry, RAW_LIMIT, type DeviceTelemetry } from './read-device-telemetry.use-case.js';
export { ReadModelStatistics, MIN_DEVICES_PER_BUCKET } from './read-model-statistics.use-case.js';
export { ReadVisitTelemetry, VISIT_WINDOW_MS } from './read-visit-telemetry.use-case.js';
export { ContributorKeys } from './contributor-key.js';
export { BUCKETS, bucketStart, type Bucket } from './time-buckets.js';
export {
  BucketView,
  DeviceTelemetryQuery,
  HISTORY_BUCKETS,
  ReadingView,
  StatisticsBucketView,
  StatisticsQuery,
  VisitPointView,
  VisitTelemetryView,
  type HistoryBucket,
} from './telemetry.dto.js';
export { TelemetryModule, TelemetryPrivacyModule, TelemetryStorageModule, TelemetryVisitsModule } from './telemetry.module.js';
