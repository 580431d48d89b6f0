import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';

/**
 * A share by phone waiting for that phone to sign in: then it becomes a
 * membership and the row goes. The phone is the invitee's, held for the
 * owner (the data subject) who typed it; it is erased a day after the
 * invitation expires, and the row goes with the device's binding.
 */
@Entity('device_invitations')
export class DeviceInvitationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 64 }) sn!: string;
  @DataSubject() @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  @PersonalData({ category: 'invitee_phone', purposes: ['service'], retainFrom: 'expiresAt' })
  @Column({ type: 'varchar', length: 16, nullable: true })
  phone!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
}
