import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';

export const ROLES = ['user', 'technician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The account. Its id is the data subject of every personal row in the system.
 * Profile fields are held for `service`; the technician of a repair sees name
 * and phone under `repair_contact`, which is decided where that read happens.
 * An erased account keeps only id, roles and timestamps (see README, Privacy).
 */
@Entity('users')
export class UserEntity {
  @DataSubject() @PrimaryGeneratedColumn('uuid') id!: string;
  @PersonalData({ category: 'phone', purposes: ['service'] })
  @Column({ type: 'varchar', length: 16, nullable: true, unique: true })
  phone!: string | null;
  @Column({ type: 'text', array: true, default: () => "'{user}'" }) roles!: Role[];
  @PersonalData({ category: 'nickname', purposes: ['service'] })
  @Column({ type: 'varchar', length: 64, nullable: true })
  nickname!: string | null;
  @PersonalData({ category: 'name', purposes: ['service'] })
  @Column({ type: 'varchar', length: 64, nullable: true })
  name!: string | null;
  @PersonalData({ category: 'gender', purposes: ['service'] })
  @Column({ type: 'varchar', length: 16, nullable: true })
  gender!: string | null;
  @PersonalData({ category: 'birth_date', purposes: ['service'] })
  @Column({ name: 'birth_date', type: 'date', nullable: true })
  birthDate!: string | null;
  @PersonalData({ category: 'location', purposes: ['service'] })
  @Column({ type: 'varchar', length: 128, nullable: true })
  location!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}
