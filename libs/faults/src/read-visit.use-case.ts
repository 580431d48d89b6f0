import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DeviceAccess, type ReportedView } from '#libs/devices';
import { IdentityDirectory } from '#libs/identity';
import { AccessLogService, LawfulBasis, type Purpose } from '#libs/privacy';
import { FaultReportRepository } from './fault-report.repository.js';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { visitOf } from './visit-access.js';
import { toFaultReportView, toRepairView, type FaultReportView, type RepairView } from './views.js';

export interface VisitView {
  repair: RepairView;
  device: { sn: string | null; model: string };
  /** The owner's name and phone, only while the owner grants `repair_contact`. */
  contact: { name: string | null; phone: string | null } | null;
  faults: FaultReportView[];
  /** The device's reported state as held for its owner, `{<point>: {value, at}}` (empty when nothing was reported). */
  reported: ReportedView;
}

/** Fault reports a visit shows at most (newest first). */
const VISIT_FAULTS = 100;

/**
 * GET /v1/tech/visits/:id: the technician's own open visit (visitOf decides),
 * with the device's reports as stored for that owner, its reported state
 * (held for that owner: the technician reads it only while the visit is
 * open) and the owner's contact only under `repair_contact`. Every part read is written to the owner's
 * access log in the reading transaction, under the purpose it was read for.
 */
@Injectable()
export class ReadVisit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tickets: RepairTicketRepository,
    private readonly reports: FaultReportRepository,
    private readonly identity: IdentityDirectory,
    private readonly basis: LawfulBasis,
    private readonly accessLog: AccessLogService,
    private readonly devices: DeviceAccess,
  ) {}

  async execute(technicianId: string, repairId: string): Promise<VisitView> {
    return this.dataSource.transaction(async (manager) => {
      const ticket = visitOf(await this.tickets.findById(manager, repairId), technicianId);
      const live = await this.basis.livePurposes(ticket.ownerId, manager);
      const faults = ticket.sn ? await this.reports.forDevice(manager, ticket.sn, ticket.ownerId, VISIT_FAULTS) : [];
      const contact = live.has('repair_contact') ? await this.identity.contactOf(ticket.ownerId, manager) : null;
      // Only while the device is still the ticket owner's: what it reports for a later owner is not this visit's.
      const stillTheirs = ticket.sn !== null && (await this.devices.ownerOf(ticket.sn, manager)) === ticket.ownerId;
      const reported = stillTheirs ? await this.devices.reportedOf(ticket.sn!, manager) : {};
      const log = (what: string, purpose: Purpose) =>
        this.accessLog.record(
          { subjectId: ticket.ownerId, actorId: technicianId, actorRole: 'technician', what: `repair ${ticket.id}: ${what}`, purpose },
          manager,
        );
      await log('ticket and device', 'service');
      if (faults.length > 0) await log(`${faults.length} fault report(s)`, 'fault_diagnostics');
      if (contact) await log('your name and phone', 'repair_contact');
      if (Object.keys(reported).length > 0) await log("the device's reported state", 'service');
      return {
        repair: toRepairView(ticket),
        device: { sn: ticket.sn, model: ticket.model },
        contact,
        faults: faults.map(toFaultReportView),
        reported,
      };
    });
  }
}
