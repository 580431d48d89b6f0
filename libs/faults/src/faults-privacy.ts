import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '#libs/identity';
import { ErasureHook, ExportSection, type Purpose } from '#libs/privacy';
import { FaultReportRepository } from './fault-report.repository.js';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { toFaultReportView, toRepairView } from './views.js';

/** Faults' part of withdrawal, retention and erasure, beyond the NULLs the tags bring. */
@ErasureHook('faults')
@Injectable()
export class FaultsErasure implements ErasureHook {
  constructor(
    private readonly reports: FaultReportRepository,
    private readonly tickets: RepairTicketRepository,
    private readonly clock: Clock,
  ) {}

  /** A report whose owner no longer lets us keep diagnostics is de-identified: the exact times go too, not only the tagged values. */
  async onPurposesEnded(manager: EntityManager, subjectId: string, ended: ReadonlySet<Purpose>): Promise<void> {
    if (ended.has('fault_diagnostics')) await this.reports.deidentifyOwnedBy(manager, subjectId);
  }

  /** Retention ends the owner link (and SN, MAC) after their period; a report left without its link becomes the same de-identified record. */
  async onRetentionApplied(manager: EntityManager): Promise<void> {
    await this.reports.deidentifyUnlinked(manager);
  }

  /** An erased account's open repairs will never be visited: they are cancelled, so no technician keeps access. */
  async onAccountErased(manager: EntityManager, subjectId: string): Promise<void> {
    const at = this.clock.now();
    for (const ticket of await this.tickets.cancelOpenOf(manager, subjectId)) {
      await this.tickets.recordStatus(manager, {
        repairId: ticket.id,
        status: 'cancelled',
        technicianId: ticket.technicianId,
        actorId: subjectId,
        at,
      });
    }
  }
}

/** `faultReports` in GET /v1/me/export: the person's reports as stored (full ones only carry them). */
@ExportSection('faultReports')
@Injectable()
export class FaultReportsExport implements ExportSection {
  constructor(private readonly reports: FaultReportRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    return (await this.reports.ofOwner(manager, subjectId)).map(toFaultReportView);
  }
}

/** `repairs` in GET /v1/me/export: the person's tickets with their status history. */
@ExportSection('repairs')
@Injectable()
export class RepairsExport implements ExportSection {
  constructor(private readonly tickets: RepairTicketRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    const tickets = await this.tickets.ofOwner(subjectId, manager);
    const history = await this.tickets.historyOf(
      tickets.map((ticket) => ticket.id),
      manager,
    );
    return tickets.map((ticket) => ({
      ...toRepairView(ticket),
      history: history.filter((row) => row.repairId === ticket.id).map(({ status, at }) => ({ status, at: at.toISOString() })),
    }));
  }
}
