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
export { FaultReportStore, type IncomingReport, type StoreResult } from './fault-report.store.js';
export {
  CLEARED_WHEN_DEIDENTIFIED,
  dayOf,
  deidentified,
  DEIDENTIFY_SET,
  keepsNothingWhenDeidentified,
} from './fault-report-deidentification.js';
export { FaultIngestion, type FaultIngestAnswer } from './fault-ingestion.js';
export { FaultReportsService, type FaultPage, type FaultStats } from './fault-reports.service.js';
export { RepairsService, type OwnRepairView, type TechnicianView } from './repairs.service.js';
export { OpenRepair } from './open-repair.use-case.js';
export { AssignRepair } from './assign-repair.use-case.js';
export { ReadVisit, type VisitView } from './read-visit.use-case.js';
export { CompleteVisit } from './complete-visit.use-case.js';
export { visitOf } from './visit-access.js';
export { OpenVisits, type OpenVisit } from './open-visits.js';
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
export { FaultsModule, FaultsPrivacyModule, VisitAccessModule } from './faults.module.js';
