import { Module } from '@nestjs/common';
import { DeviceAccessModule } from '#libs/devices';
import { IdentityDirectoryModule } from '#libs/identity';
import { PrivacyModule } from '#libs/privacy';
import { AssignRepair } from './assign-repair.use-case.js';
import { CompleteVisit } from './complete-visit.use-case.js';
import { FaultIngestion } from './fault-ingestion.js';
import { FaultReportRepository } from './fault-report.repository.js';
import { FaultReportStore } from './fault-report.store.js';
import { FaultReportsService } from './fault-reports.service.js';
import { FaultReportsExport, FaultsErasure, RepairsExport } from './faults-privacy.js';
import { OpenRepair } from './open-repair.use-case.js';
import { OpenVisits } from './open-visits.js';
import { ReadVisit } from './read-visit.use-case.js';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { RepairsService } from './repairs.service.js';

const repositories = [FaultReportRepository, RepairTicketRepository];

/** What faults adds to the privacy rights: export sections (faultReports, repairs) and its erasure hook. Provisioning, which serves the rights, imports it. */
@Module({
  imports: [IdentityDirectoryModule],
  providers: [...repositories, FaultsErasure, FaultReportsExport, RepairsExport],
  exports: repositories,
})
export class FaultsPrivacyModule {}

/** Fault reports and repairs for an app; needs DatabaseModule (global) with FAULTS_ENTITIES and ConfigModule. */
@Module({
  imports: [PrivacyModule, IdentityDirectoryModule, DeviceAccessModule, FaultsPrivacyModule],
  providers: [FaultReportStore, FaultIngestion, FaultReportsService, RepairsService, OpenRepair, AssignRepair, ReadVisit, CompleteVisit],
  exports: [FaultIngestion, FaultReportsService, RepairsService, OpenRepair, AssignRepair, ReadVisit, CompleteVisit],
})
export class FaultsModule {}

/** Faults' door to open visits (OpenVisits) for contexts that show a visit's device data. */
@Module({
  imports: [FaultsPrivacyModule],
  providers: [OpenVisits],
  exports: [OpenVisits],
})
export class VisitAccessModule {}
