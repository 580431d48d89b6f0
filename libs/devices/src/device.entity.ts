import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A manufactured appliance in the registry. Who owns it or shares it lives in
 * separate tables (bindings), keyed by `sn`, so the registry never changes
 * when ownership does. Secrets and claim codes are held only as keyed hashes.
 */
@Entity('devices')
export class DeviceEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) sn!: string;
  /** Factory MAC, normalised to `AA:BB:CC:DD:EE:FF`. */
  @Column({ type: 'varchar', length: 17 }) mac!: string;
  @Column({ type: 'varchar', length: 64 }) model!: string;
  @Column({ type: 'varchar', length: 32, nullable: true }) firmware!: string | null;
  /** HMAC-SHA256 of the device secret (hex); null once revoked. */
  @Column({ name: 'secret_hash', type: 'char', length: 64, nullable: true }) secretHash!: string | null;
  @Column({ name: 'claim_code_hash', type: 'char', length: 64 }) claimCodeHash!: string;
  @Column({ name: 'secret_rotated_at', type: 'timestamptz', nullable: true }) secretRotatedAt!: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @Column({ type: 'boolean', default: false }) online!: boolean;
  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true }) lastSeenAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
