import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DeviceAccess } from '#libs/devices';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { PersonalDataWriter } from '#libs/privacy';
import { RepairTicketEntity } from './repair-ticket.entity.js';
import { RepairTicketRepository } from './repair-ticket.repository.js';
import { toRepairView, type RepairView } from './views.js';

/** POST /v1/repairs: the device's owner (not a member) asks for a repair; the ticket opens with its first history entry. */
@Injectable()
export class OpenRepair {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly devices: DeviceAccess,
    private readonly tickets: RepairTicketRepository,
    private readonly writer: PersonalDataWriter,
    private readonly clock: Clock,
  ) {}

  async execute(ownerId: string, sn: string, description: string): Promise<RepairView> {
    return this.dataSource.transaction(async (manager) => {
      if ((await this.devices.roleOf(ownerId, sn, manager)) !== 'owner') {
        throw new DomainError('FORBIDDEN', "Only the device's owner can ask for a repair");
      }
      const model = (await this.devices.modelOf(sn, manager)) ?? 'unknown';
      const id = randomUUID();
      const now = this.clock.now();
      await this.writer.insert(RepairTicketEntity, ownerId, { id, sn, model, description, status: 'open', createdAt: now }, manager);
      await this.tickets.recordStatus(manager, { repairId: id, status: 'open', technicianId: null, actorId: ownerId, at: now });
      return toRepairView((await this.tickets.findById(manager, id))!);
    });
  }
}
