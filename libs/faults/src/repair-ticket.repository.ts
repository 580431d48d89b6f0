import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { RepairStatusEntity, RepairTicketEntity, type RepairStatus } from './repair-ticket.entity.js';

/** repair_tickets and their repair_status_history. Personal columns (SN, description, notes) are written through PersonalDataWriter. */
@Injectable()
export class RepairTicketRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(manager: EntityManager, id: string): Promise<RepairTicketEntity | null> {
    return manager.findOneBy(RepairTicketEntity, { id });
  }

  /** The ticket, locked for the rest of the transaction. */
  lockById(manager: EntityManager, id: string): Promise<RepairTicketEntity | null> {
    return manager.findOne(RepairTicketEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  ofOwner(ownerId: string, manager: EntityManager = this.dataSource.manager): Promise<RepairTicketEntity[]> {
    return manager.find(RepairTicketEntity, { where: { ownerId }, order: { createdAt: 'DESC' } });
  }

  /** Oldest first, at most `take`. */
  forDispatch(manager: EntityManager, status: RepairStatus | undefined, take: number): Promise<RepairTicketEntity[]> {
    return manager.find(RepairTicketEntity, { where: status ? { status } : {}, order: { createdAt: 'ASC' }, take });
  }

  assignedTo(manager: EntityManager, technicianId: string): Promise<RepairTicketEntity[]> {
    return manager.find(RepairTicketEntity, { where: { technicianId, status: 'assigned' }, order: { assignedAt: 'ASC' } });
  }

  async assign(manager: EntityManager, id: string, technicianId: string, at: Date): Promise<void> {
    await manager.update(RepairTicketEntity, { id }, { status: 'assigned', technicianId, assignedAt: at });
  }

  async complete(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.update(RepairTicketEntity, { id }, { status: 'completed', closedAt: at });
  }

  /** Cancels the owner's open and assigned tickets; answers each with the technician it had. */
  async cancelOpenOf(manager: EntityManager, ownerId: string): Promise<Array<{ id: string; technicianId: string | null }>> {
    const cancelled = (await manager.query(
      `UPDATE repair_tickets SET status = 'cancelled', closed_at = now()
        WHERE owner_id = $1 AND status IN ('open', 'assigned') RETURNING id, technician_id`,
      [ownerId],
    )) as [Array<{ id: string; technician_id: string | null }>, number];
    return cancelled[0].map((row) => ({ id: row.id, technicianId: row.technician_id }));
  }

  async recordStatus(
    manager: EntityManager,
    entry: { repairId: string; status: RepairStatus; technicianId: string | null; actorId: string | null; at: Date },
  ): Promise<void> {
    await manager.insert(RepairStatusEntity, entry);
  }

  /** The status history of these tickets, oldest first. */
  async historyOf(repairIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<RepairStatusEntity[]> {
    if (repairIds.length === 0) return [];
    return manager.find(RepairStatusEntity, { where: { repairId: In([...repairIds]) }, order: { at: 'ASC', id: 'ASC' } });
  }
}
