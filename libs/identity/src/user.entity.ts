import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const ROLES = ['user', 'technician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 16, nullable: true, unique: true }) phone!: string | null;
  @Column({ type: 'text', array: true, default: () => "'{user}'" }) roles!: Role[];
  @Column({ type: 'varchar', length: 64, nullable: true }) nickname!: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) name!: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) gender!: string | null;
  @Column({ name: 'birth_date', type: 'date', nullable: true }) birthDate!: string | null;
  @Column({ type: 'varchar', length: 128, nullable: true }) location!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}
