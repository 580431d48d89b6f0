import { Module } from '@nestjs/common';
import { DeviceAccess } from '#libs/devices';
import { IdentityModule } from '#libs/identity';
import { PrivacyModule } from '#libs/privacy';
import { FaultIngestion } from './fault-ingestion.js';
import { FaultReportStore } from './fault-report.store.js';
import { FaultReportsService } from './fault-reports.service.js';
import { RepairsService } from './repairs.service.js';

/** Fault reports and repairs for an app; needs DatabaseModule (global) with FAULTS_ENTITIES and ConfigModule. */
@Module({
  imports: [PrivacyModule, IdentityModule],
  providers: [DeviceAccess, FaultReportStore, FaultIngestion, FaultReportsService, RepairsService],
  exports: [FaultIngestion, FaultReportsService, RepairsService],
})
export class FaultsModule {}
