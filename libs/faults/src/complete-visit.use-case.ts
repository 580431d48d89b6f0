import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Clock } from '#libs/identity';
import { PersonalDataWriter } from '#libs/privacy';
import { RepairTicketEntity } from './repair-ticket.entity.js';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { visitOf } from './visit-access.js';
import { toRepairView, type RepairView } from './views.js';

/**
 * POST /v1/tech/visits/:id/complete: the technician ends their visit (the
 * ticket is locked, so two completions cannot both pass visitOf). The notes
 * are the owner's data under `service`; the ticket closes, the history
 * records who completed it, and from then on the technician is refused it.
 */
@Injectable()
export class CompleteVisit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tickets: RepairTicketRepository,
    private readonly writer: PersonalDataWriter,
    private readonly clock: Clock,
  ) {}

  async execute(technicianId: string, repairId: string, notes: string): Promise<RepairView> {
    return this.dataSource.transaction(async (manager) => {
      const ticket = visitOf(await this.tickets.lockById(manager, repairId), technicianId);
      const now = this.clock.now();
      await this.tickets.complete(manager, repairId, now);
      if (notes) await this.writer.update(RepairTicketEntity, ticket.ownerId, { id: repairId }, { completionNotes: notes }, manager);
      await this.tickets.recordStatus(manager, { repairId, status: 'completed', technicianId, actorId: technicianId, at: now });
      return toRepairView((await this.tickets.findById(manager, repairId))!);
    });
  }
}
