import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { DeviceAccess } from '#libs/devices';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { AccessLogService, LawfulBasis, PersonalDataWriter } from '#libs/privacy';
import { FaultReportEntity } from './fault-report.entity.js';
import { RepairStatusEntity, RepairTicketEntity, type RepairStatus } from './repair-ticket.entity.js';
import { toFaultReportView, toRepairView, type FaultReportView, type RepairHistoryEntry, type RepairView } from './views.js';

export interface OwnRepairView extends RepairView {
  history: RepairHistoryEntry[];
}

export interface VisitView {
  repair: RepairView;
  device: { sn: string | null; model: string };
  /** The owner's name and phone, only while the owner grants `repair_contact`. */
  contact: { name: string | null; phone: string | null } | null;
  faults: FaultReportView[];
}

export interface TechnicianView {
  id: string;
  name: string | null;
  phone: string | null;
}

/** Fault reports a visit shows at most (newest first). */
const VISIT_FAULTS = 100;

/**
 * Repair tickets and technician visits. An owner opens a ticket for a device
 * they own; an admin assigns it to a technician, which makes it that
 * technician's visit (same id) until they complete it. Every status change
 * is kept in repair_status_history. Every staff read of an owner's data is
 * written to the owner's access log in the transaction that reads; a refused
 * read reads nothing and logs nothing.
 */
@Injectable()
export class RepairsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: DeviceAccess,
    private readonly writer: PersonalDataWriter,
    private readonly basis: LawfulBasis,
    private readonly accessLog: AccessLogService,
    private readonly clock: Clock,
  ) {}

  async open(ownerId: string, sn: string, description: string): Promise<RepairView> {
    return this.dataSource.transaction(async (manager) => {
      if ((await this.access.roleOf(ownerId, sn, manager)) !== 'owner') {
        throw new DomainError('FORBIDDEN', "Only the device's owner can ask for a repair");
      }
      const [device] = (await manager.query('SELECT model FROM devices WHERE sn = $1', [sn])) as Array<{ model: string }>;
      const id = randomUUID();
      const now = this.clock.now();
      await this.writer.insert(
        RepairTicketEntity,
        ownerId,
        { id, sn, model: device.model, description, status: 'open', createdAt: now },
        manager,
      );
      await this.recordStatus(manager, id, 'open', null, ownerId, now);
      return toRepairView(await manager.findOneByOrFail(RepairTicketEntity, { id }));
    });
  }

  async listOwn(ownerId: string): Promise<OwnRepairView[]> {
    const tickets = await this.dataSource.getRepository(RepairTicketEntity).find({ where: { ownerId }, order: { createdAt: 'DESC' } });
    const history = await this.historyOf(
      this.dataSource.manager,
      tickets.map((ticket) => ticket.id),
    );
    return tickets.map((ticket) => ({ ...toRepairView(ticket), history: history.get(ticket.id) ?? [] }));
  }

  /** The dispatcher's list; each ticket shown is a read of its owner's data, so it is logged. */
  async listForDispatch(adminId: string, status?: RepairStatus): Promise<RepairView[]> {
    return this.dataSource.transaction(async (manager) => {
      const tickets = await manager.find(RepairTicketEntity, { where: status ? { status } : {}, order: { createdAt: 'ASC' }, take: 500 });
      for (const ticket of tickets) {
        await this.accessLog.record(
          {
            subjectId: ticket.ownerId,
            actorId: adminId,
            actorRole: 'admin',
            what: `repair ${ticket.id}: listed for dispatch`,
            purpose: 'service',
          },
          manager,
        );
      }
      return tickets.map(toRepairView);
    });
  }

  async assign(adminId: string, repairId: string, technicianId: string): Promise<RepairView> {
    return this.dataSource.transaction(async (manager) => {
      const ticket = await this.lockTicket(manager, repairId);
      if (ticket.status === 'completed' || ticket.status === 'cancelled')
        throw new DomainError('CONFLICT', `This repair is ${ticket.status}`);
      const [technician] = (await manager.query(`SELECT id FROM users WHERE id = $1 AND 'technician' = ANY(roles) AND deleted_at IS NULL`, [
        technicianId,
      ])) as unknown[];
      if (!technician) throw new DomainError('NOT_FOUND', 'No technician has this id');
      const now = this.clock.now();
      await manager.update(RepairTicketEntity, { id: repairId }, { status: 'assigned', technicianId, assignedAt: now });
      await this.recordStatus(manager, repairId, 'assigned', technicianId, adminId, now);
      return toRepairView(await manager.findOneByOrFail(RepairTicketEntity, { id: repairId }));
    });
  }

  /** Technicians for the assign picker; their names and phones are personal data too, so each listing is logged for them. */
  async technicians(adminId: string): Promise<TechnicianView[]> {
    return this.dataSource.transaction(async (manager) => {
      const technicians = (await manager.query(
        `SELECT id, name, phone FROM users WHERE 'technician' = ANY(roles) AND deleted_at IS NULL ORDER BY name NULLS LAST, id`,
      )) as TechnicianView[];
      for (const technician of technicians) {
        await this.accessLog.record(
          {
            subjectId: technician.id,
            actorId: adminId,
            actorRole: 'admin',
            what: 'name and phone: listed for dispatch',
            purpose: 'service',
          },
          manager,
        );
      }
      return technicians;
    });
  }

  /** The technician's open visits; each is a read of its owner's ticket, so it is logged. */
  async openVisits(technicianId: string): Promise<RepairView[]> {
    return this.dataSource.transaction(async (manager) => {
      const tickets = await manager.find(RepairTicketEntity, { where: { technicianId, status: 'assigned' }, order: { assignedAt: 'ASC' } });
      for (const ticket of tickets) {
        await this.accessLog.record(
          {
            subjectId: ticket.ownerId,
            actorId: technicianId,
            actorRole: 'technician',
            what: `repair ${ticket.id}: listed among open visits`,
            purpose: 'service',
          },
          manager,
        );
      }
      return tickets.map(toRepairView);
    });
  }

  async readVisit(technicianId: string, repairId: string): Promise<VisitView> {
    return this.dataSource.transaction(async (manager) => {
      const ticket = await this.visitOf(manager, technicianId, repairId, false);
      const live = await this.basis.livePurposes(ticket.ownerId, manager);
      const faults = ticket.sn
        ? await manager.find(FaultReportEntity, {
            where: { sn: ticket.sn, ownerId: ticket.ownerId },
            order: { occurredAt: 'DESC' },
            take: VISIT_FAULTS,
          })
        : [];
      let contact: VisitView['contact'] = null;
      if (live.has('repair_contact')) {
        const [owner] = (await manager.query('SELECT name, phone FROM users WHERE id = $1', [ticket.ownerId])) as Array<{
          name: string | null;
          phone: string | null;
        }>;
        contact = owner ? { name: owner.name, phone: owner.phone } : null;
      }
      const log = (what: string, purpose: 'service' | 'fault_diagnostics' | 'repair_contact') =>
        this.accessLog.record(
          { subjectId: ticket.ownerId, actorId: technicianId, actorRole: 'technician', what: `repair ${ticket.id}: ${what}`, purpose },
          manager,
        );
      await log('ticket and device', 'service');
      if (faults.length > 0) await log(`${faults.length} fault report(s)`, 'fault_diagnostics');
      if (contact) await log('your name and phone', 'repair_contact');
      return {
        repair: toRepairView(ticket),
        device: { sn: ticket.sn, model: ticket.model },
        contact,
        faults: faults.map(toFaultReportView),
      };
    });
  }

  /** Ends the visit; from then on the technician is refused it. */
  async complete(technicianId: string, repairId: string, notes: string): Promise<RepairView> {
    return this.dataSource.transaction(async (manager) => {
      const ticket = await this.visitOf(manager, technicianId, repairId, true);
      const now = this.clock.now();
      await manager.update(RepairTicketEntity, { id: repairId }, { status: 'completed', closedAt: now });
      if (notes) await this.writer.update(RepairTicketEntity, ticket.ownerId, { id: repairId }, { completionNotes: notes }, manager);
      await this.recordStatus(manager, repairId, 'completed', technicianId, technicianId, now);
      return toRepairView(await manager.findOneByOrFail(RepairTicketEntity, { id: repairId }));
    });
  }

  /** The ticket, when it is this technician's open visit; otherwise 403 "not yours" (404 when there is no such repair). */
  private async visitOf(manager: EntityManager, technicianId: string, repairId: string, lock: boolean): Promise<RepairTicketEntity> {
    const ticket = lock ? await this.lockTicket(manager, repairId) : await manager.findOneBy(RepairTicketEntity, { id: repairId });
    if (!ticket) throw new DomainError('NOT_FOUND', 'No repair has this id');
    if (ticket.technicianId !== technicianId || ticket.status !== 'assigned') throw new DomainError('FORBIDDEN', 'This visit is not yours');
    return ticket;
  }

  private async lockTicket(manager: EntityManager, repairId: string): Promise<RepairTicketEntity> {
    const ticket = await manager.findOne(RepairTicketEntity, { where: { id: repairId }, lock: { mode: 'pessimistic_write' } });
    if (!ticket) throw new DomainError('NOT_FOUND', 'No repair has this id');
    return ticket;
  }

  private async recordStatus(
    manager: EntityManager,
    repairId: string,
    status: RepairStatus,
    technicianId: string | null,
    actorId: string | null,
    at: Date,
  ) {
    await manager.insert(RepairStatusEntity, { repairId, status, technicianId, actorId, at });
  }

  private async historyOf(manager: EntityManager, repairIds: string[]): Promise<Map<string, RepairHistoryEntry[]>> {
    const answer = new Map<string, RepairHistoryEntry[]>();
    if (repairIds.length === 0) return answer;
    const rows = await manager.find(RepairStatusEntity, { where: { repairId: In(repairIds) }, order: { at: 'ASC', id: 'ASC' } });
    for (const row of rows) {
      const list = answer.get(row.repairId) ?? [];
      list.push({ status: row.status, at: row.at.toISOString(), technicianId: row.technicianId });
      answer.set(row.repairId, list);
    }
    return answer;
  }
}
