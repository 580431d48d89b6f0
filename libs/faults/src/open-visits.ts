import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { visitOf } from './visit-access.js';

/** What another context may know of a technician's open visit, to show the device's own data during it. */
export interface OpenVisit {
  repairId: string;
  sn: string | null;
  model: string;
  /** The owner who asked for the repair: whose data the technician sees, and whose access log records it. */
  ownerId: string;
}

/**
 * Faults' door for other contexts that show a visit's device data (telemetry:
 * the last readings): the same rule as the visit itself (visitOf), so a
 * visit that is not the technician's, or no longer open, is 403 before
 * anything is read, and no such repair is 404.
 */
@Injectable()
export class OpenVisits {
  constructor(private readonly tickets: RepairTicketRepository) {}

  async of(technicianId: string, repairId: string, manager: EntityManager): Promise<OpenVisit> {
    const ticket = visitOf(await this.tickets.findById(manager, repairId), technicianId);
    return { repairId: ticket.id, sn: ticket.sn, model: ticket.model, ownerId: ticket.ownerId };
  }
}
