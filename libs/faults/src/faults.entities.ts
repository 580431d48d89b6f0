import type { EntityManager } from 'typeorm';
import { registerErasureHook, registerExportSection } from '#libs/privacy';
import { FaultReportEntity } from './fault-report.entity.js';
import { RepairStatusEntity, RepairTicketEntity } from './repair-ticket.entity.js';
import { toFaultReportView, toRepairView, type RepairHistoryRow } from './views.js';

export const FAULTS_ENTITIES = [FaultReportEntity, RepairTicketEntity, RepairStatusEntity];

/** Cuts a timestamp to midnight UTC of its day, in SQL. */
const DAY = (column: string) => `date_trunc('day', ${column}, 'UTC')`;

/** What a de-identified report keeps: model, firmware, code, severity and the day; no SN, MAC, diagnostics or person. */
const DEIDENTIFY = `stored = 'deidentified', sn = NULL, mac = NULL, diagnostics = NULL, owner_id = NULL,
  occurred_at = ${DAY('occurred_at')}, received_at = ${DAY('received_at')}`;

// Importing this module (as the entity list does in every process that serves
// the rights) registers what faults adds to them, the way importing an entity
// registers its @PersonalData tags.
registerErasureHook({
  name: 'faults',
  // Beyond NULL: a report whose owner no longer lets us keep diagnostics loses
  // the exact times as well, so nothing links it back to a device's history.
  onPurposesEnded: async (manager, subjectId, ended) => {
    if (!ended.has('fault_diagnostics')) return;
    await manager.query(`UPDATE fault_reports SET ${DEIDENTIFY} WHERE owner_id = $1`, [subjectId]);
  },
  // Retention ends the owner link (and SN, MAC) after their period; a report
  // left without its link becomes the same de-identified record, times cut to the day.
  onRetentionApplied: async (manager) => {
    await manager.query(`UPDATE fault_reports SET ${DEIDENTIFY} WHERE stored = 'full' AND owner_id IS NULL`);
  },
  // An erased account's open repairs will never be visited: cancel them, so no technician keeps access.
  onAccountErased: async (manager, subjectId) => {
    const cancelled = (await manager.query(
      `UPDATE repair_tickets SET status = 'cancelled', closed_at = now()
        WHERE owner_id = $1 AND status IN ('open', 'assigned') RETURNING id, technician_id`,
      [subjectId],
    )) as [Array<{ id: string; technician_id: string | null }>, number];
    for (const row of cancelled[0]) {
      await manager.insert(RepairStatusEntity, {
        repairId: row.id,
        status: 'cancelled',
        technicianId: row.technician_id,
        actorId: subjectId,
        at: new Date(),
      });
    }
  },
});

registerExportSection('faultReports', async (manager: EntityManager, subjectId: string) => {
  const reports = await manager.find(FaultReportEntity, { where: { ownerId: subjectId }, order: { occurredAt: 'DESC' } });
  return reports.map(toFaultReportView);
});

registerExportSection('repairs', async (manager: EntityManager, subjectId: string) => {
  const tickets = await manager.find(RepairTicketEntity, { where: { ownerId: subjectId }, order: { createdAt: 'DESC' } });
  const history = tickets.length
    ? ((await manager.query(
        `SELECT repair_id AS "repairId", status, at FROM repair_status_history WHERE repair_id = ANY($1::uuid[]) ORDER BY at, id`,
        [tickets.map((ticket) => ticket.id)],
      )) as RepairHistoryRow[])
    : [];
  return tickets.map((ticket) => ({
    ...toRepairView(ticket),
    history: history.filter((row) => row.repairId === ticket.id).map(({ status, at }) => ({ status, at: at.toISOString() })),
  }));
});
