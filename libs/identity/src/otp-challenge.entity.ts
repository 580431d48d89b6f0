import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A one-time code sent by SMS. Phone, IP and code are kept only as keyed hashes. */
@Entity('otp_challenges')
@Index(['phoneHash', 'createdAt'])
@Index(['ipHash', 'createdAt'])
export class OtpChallengeEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'phone_hash', type: 'char', length: 64 }) phoneHash!: string;
  @Column({ name: 'ip_hash', type: 'char', length: 64 }) ipHash!: string;
  @Column({ name: 'code_hash', type: 'char', length: 64 }) codeHash!: string;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true }) consumedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
