import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';
import type { PointValue } from './appliance-model.js';
import type { DesiredStatus } from './desired-state.js';

const CONTROL = { category: 'appliance_control', purposes: ['service'] } as const;

/**
 * One control request of a device (`PUT /v1/devices/:sn/state/desired`),
 * held for the device's owner of the moment: what was asked, by whom and
 * when, the values pending with it, and what the appliance did. It is the
 * device's state history; it goes when the device leaves its owner (unbind,
 * factory reset, erasure), so the next owner sees none of it.
 */
@Entity('device_desired_requests')
export class DesiredRequestEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 64 }) sn!: string;
  @DataSubject() @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  /** The device's desired version this request made (per device, rising across owners). */
  @Column({ type: 'integer' }) version!: number;
  /** What this request asked. */
  @PersonalData(CONTROL) @Column({ type: 'jsonb', nullable: true }) asked!: Record<string, PointValue> | null;
  /** Every value pending under this version (this request merged into the one pending before). */
  @PersonalData(CONTROL) @Column({ type: 'jsonb', nullable: true }) merged!: Record<string, PointValue> | null;
  @Column({ type: 'varchar', length: 16 }) status!: DesiredStatus;
  @PersonalData(CONTROL) @Column({ name: 'requested_at', type: 'timestamptz', nullable: true }) requestedAt!: Date | null;
  /** The owner or member who asked; null once that account is erased. */
  @PersonalData(CONTROL) @Column({ name: 'requested_by', type: 'uuid', nullable: true }) requestedBy!: string | null;
  @Column({ name: 'requested_by_role', type: 'varchar', length: 8 }) requestedByRole!: 'owner' | 'member';
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'settled_at', type: 'timestamptz', nullable: true }) settledAt!: Date | null;
  /** The device's reasons, `{<point>: reason}`, when it refused the request. */
  @Column({ type: 'jsonb', nullable: true }) rejected!: Record<string, string> | null;
}
