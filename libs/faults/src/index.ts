// Fault reports from appliances (kept in full only under the owner's
// `fault_diagnostics`, de-identified otherwise), repair tickets and visits.
export {
  FaultReportEntity,
  FAULT_SEVERITY_VALUES,
  type FaultSeverity,
  type StoredForm,
  type FaultDiagnosticsValue,
} from './fault-report.entity.js';
export { RepairTicketEntity, RepairStatusEntity, REPAIR_STATUSES, type RepairStatus } from './repair-ticket.entity.js';
export { FAULTS_ENTITIES } from './faults.entities.js';
export { Batcher, BatcherClosedError, isTransientDatabaseError, type BatcherOptions } from './batcher.js';
export { FaultReportStore, dayOf, type IncomingReport, type StoreResult } from './fault-report.store.js';
export { FaultIngestion, type FaultIngestAnswer } from './fault-ingestion.js';
export { FaultReportsService, type FaultPage, type FaultStats } from './fault-reports.service.js';
export { RepairsService, type OwnRepairView, type TechnicianView, type VisitView } from './repairs.service.js';
export { toFaultReportView, toRepairView, type FaultReportView, type RepairView, type RepairHistoryEntry } from './views.js';
export {
  AssignRepairDto,
  CompleteVisitDto,
  DeviceFaultsQuery,
  FaultStatsQuery,
  OpenRepairDto,
  RepairListQuery,
  FAULT_PAGE_DEFAULT,
  FAULT_PAGE_MAX,
} from './dto.js';
export { FaultsModule } from './faults.module.js';
