import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The one owner of a device. The primary key on `sn` makes a second binding impossible. */
@Entity('device_bindings')
export class DeviceBindingEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) sn!: string;
  @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  @Column({ name: 'bound_at', type: 'timestamptz' }) boundAt!: Date;
}

/** A family member the owner shared the device with: sees status and faults, cannot unbind or share. */
@Entity('device_members')
export class DeviceMemberEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) sn!: string;
  @PrimaryColumn({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ name: 'added_at', type: 'timestamptz' }) addedAt!: Date;
}
