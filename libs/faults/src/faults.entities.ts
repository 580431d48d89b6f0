import { FaultReportEntity } from './fault-report.entity.js';
import { RepairStatusEntity, RepairTicketEntity } from './repair-ticket.entity.js';

export const FAULTS_ENTITIES = [FaultReportEntity, RepairTicketEntity, RepairStatusEntity];
