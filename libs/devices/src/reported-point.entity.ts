import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';
import type { PointValue } from './appliance-model.js';

const STATE = { category: 'appliance_state', purposes: ['service'] } as const;

/**
 * The newest reported value of one data point of a device, held for the
 * device's owner of the moment (a heater's on/off times say when a family is
 * home): written only while the device is owned, deleted when it leaves its
 * owner (unbind, factory reset, erasure), so the next owner sees none of it.
 */
@Entity('device_reported_points')
export class ReportedPointEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) sn!: string;
  @PrimaryColumn({ type: 'varchar', length: 40 }) point!: string;
  @DataSubject() @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  @PersonalData(STATE) @Column({ type: 'jsonb', nullable: true }) value!: PointValue | null;
  /** When the device reported it (or the reading's own time). */
  @PersonalData(STATE) @Column({ type: 'timestamptz', nullable: true }) at!: Date | null;
}
