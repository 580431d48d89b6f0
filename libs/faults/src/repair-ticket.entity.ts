import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';

export const REPAIR_STATUSES = ['open', 'assigned', 'completed', 'cancelled'] as const;
export type RepairStatus = (typeof REPAIR_STATUSES)[number];

/**
 * A repair an owner asked for. Once assigned it is also the technician's
 * visit (same id) until completed. The SN, the owner's description and the
 * technician's notes are the owner's personal data under `service`, kept
 * while the ticket is open and for the category's period after it closes.
 */
@Entity('repair_tickets')
export class RepairTicketEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @DataSubject() @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;

  @PersonalData({ category: 'device_sn', purposes: ['service'], retainFrom: 'closedAt' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  sn!: string | null;

  @Column({ type: 'varchar', length: 64 }) model!: string;

  @PersonalData({ category: 'repair_request', purposes: ['service'], retainFrom: 'closedAt' })
  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 16 }) status!: RepairStatus;
  @Column({ name: 'technician_id', type: 'uuid', nullable: true }) technicianId!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'assigned_at', type: 'timestamptz', nullable: true }) assignedAt!: Date | null;
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true }) closedAt!: Date | null;

  @PersonalData({ category: 'repair_request', purposes: ['service'], retainFrom: 'closedAt' })
  @Column({ name: 'completion_notes', type: 'text', nullable: true })
  completionNotes!: string | null;
}

/** Every status a ticket went through, who moved it and when; append-only by use. */
@Entity('repair_status_history')
export class RepairStatusEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ name: 'repair_id', type: 'uuid' }) repairId!: string;
  @Column({ type: 'varchar', length: 16 }) status!: RepairStatus;
  @Column({ name: 'technician_id', type: 'uuid', nullable: true }) technicianId!: string | null;
  @Column({ name: 'actor_id', type: 'uuid', nullable: true }) actorId!: string | null;
  @Column({ type: 'timestamptz' }) at!: Date;
}
