import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Clock, IdentityDirectory } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { toRepairView, type RepairView } from './views.js';

/**
 * POST /v1/admin/repairs/:id/assign: a dispatcher gives an open (or already
 * assigned) repair to an active technician, which makes it that technician's
 * visit. A completed or cancelled repair is 409.
 */
@Injectable()
export class AssignRepair {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tickets: RepairTicketRepository,
    private readonly identity: IdentityDirectory,
    private readonly clock: Clock,
  ) {}

  async execute(adminId: string, repairId: string, technicianId: string): Promise<RepairView> {
    return this.dataSource.transaction(async (manager) => {
      const ticket = await this.tickets.lockById(manager, repairId);
      if (!ticket) throw new DomainError('NOT_FOUND', 'No repair has this id');
      if (ticket.status === 'completed' || ticket.status === 'cancelled')
        throw new DomainError('CONFLICT', `This repair is ${ticket.status}`);
      if (!(await this.identity.isActiveTechnician(technicianId, manager))) throw new DomainError('NOT_FOUND', 'No technician has this id');
      const now = this.clock.now();
      await this.tickets.assign(manager, repairId, technicianId, now);
      await this.tickets.recordStatus(manager, { repairId, status: 'assigned', technicianId, actorId: adminId, at: now });
      return toRepairView((await this.tickets.findById(manager, repairId))!);
    });
  }
}
