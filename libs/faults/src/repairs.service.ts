import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { IdentityDirectory, type TechnicianContact } from '#libs/identity';
import { AccessLogService } from '#libs/privacy';
import type { RepairStatus } from './repair-ticket.entity.js';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { toRepairView, type RepairHistoryEntry, type RepairView } from './views.js';

export interface OwnRepairView extends RepairView {
  history: RepairHistoryEntry[];
}

export type TechnicianView = TechnicianContact;

/** Tickets the dispatcher lists at most. */
const DISPATCH_LIST = 500;

/**
 * The lists of repairs: an owner's own tickets, the dispatcher's queue and
 * technician picker, a technician's open visits. Each ticket or technician
 * shown to staff is a read of someone's data, so it is written to their
 * access log in the transaction that reads. (Opening, assigning, reading and
 * completing a visit are use-cases of their own.)
 */
@Injectable()
export class RepairsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tickets: RepairTicketRepository,
    private readonly identity: IdentityDirectory,
    private readonly accessLog: AccessLogService,
  ) {}

  async listOwn(ownerId: string): Promise<OwnRepairView[]> {
    const tickets = await this.tickets.ofOwner(ownerId);
    const history = new Map<string, RepairHistoryEntry[]>();
    for (const row of await this.tickets.historyOf(tickets.map((ticket) => ticket.id))) {
      history.set(row.repairId, [
        ...(history.get(row.repairId) ?? []),
        { status: row.status, at: row.at.toISOString(), technicianId: row.technicianId },
      ]);
    }
    return tickets.map((ticket) => ({ ...toRepairView(ticket), history: history.get(ticket.id) ?? [] }));
  }

  /** The dispatcher's list; each ticket shown is a read of its owner's data, so it is logged. */
  async listForDispatch(adminId: string, status?: RepairStatus): Promise<RepairView[]> {
    return this.dataSource.transaction(async (manager) => {
      const tickets = await this.tickets.forDispatch(manager, status, DISPATCH_LIST);
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

  /** Technicians for the assign picker; their names and phones are personal data too, so each listing is logged for them. */
  async technicians(adminId: string): Promise<TechnicianView[]> {
    return this.dataSource.transaction(async (manager) => {
      const technicians = await this.identity.activeTechnicians(manager);
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
      const tickets = await this.tickets.assignedTo(manager, technicianId);
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
}
