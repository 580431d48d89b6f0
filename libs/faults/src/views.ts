import type { FaultDiagnosticsValue, FaultReportEntity, FaultSeverity, StoredForm } from './fault-report.entity.js';
import type { RepairStatus, RepairTicketEntity } from './repair-ticket.entity.js';

/** A fault report as it leaves the process: what is stored, nothing more. */
export interface FaultReportView {
  reportId: string;
  stored: StoredForm;
  sn: string | null;
  model: string;
  firmware: string | null;
  code: string;
  severity: FaultSeverity;
  occurredAt: string;
  receivedAt: string;
  diagnostics: FaultDiagnosticsValue | null;
}

export function toFaultReportView(report: FaultReportEntity): FaultReportView {
  return {
    reportId: report.reportId,
    stored: report.stored,
    sn: report.sn,
    model: report.model,
    firmware: report.firmware,
    code: report.code,
    severity: report.severity,
    occurredAt: report.occurredAt.toISOString(),
    receivedAt: report.receivedAt.toISOString(),
    diagnostics: report.diagnostics,
  };
}

export interface RepairView {
  id: string;
  status: RepairStatus;
  sn: string | null;
  model: string;
  description: string | null;
  createdAt: string;
  technicianId: string | null;
  assignedAt: string | null;
  closedAt: string | null;
}

export function toRepairView(ticket: RepairTicketEntity): RepairView {
  return {
    id: ticket.id,
    status: ticket.status,
    sn: ticket.sn,
    model: ticket.model,
    description: ticket.description,
    createdAt: ticket.createdAt.toISOString(),
    technicianId: ticket.technicianId,
    assignedAt: ticket.assignedAt?.toISOString() ?? null,
    closedAt: ticket.closedAt?.toISOString() ?? null,
  };
}

export interface RepairHistoryRow {
  repairId: string;
  status: RepairStatus;
  at: Date;
}

export interface RepairHistoryEntry {
  status: RepairStatus;
  at: string;
  technicianId: string | null;
}
