import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A signed image the maker uploaded; its bytes are a file in FirmwareStorage named by `id`. */
@Entity('firmware_images')
export class FirmwareImageEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'varchar', length: 64 }) model!: string;
  /** `x.y.z`; one image per model and version. */
  @Column({ type: 'varchar', length: 32 }) version!: string;
  @Column({ type: 'bigint', transformer: { to: (value: number) => value, from: (value: string) => Number(value) } }) size!: number;
  /** SHA-256 of the bytes, lowercase hex. */
  @Column({ type: 'char', length: 64 }) sha256!: string;
  /** Ed25519 signature over the bytes, base64, as uploaded and verified. */
  @Column({ type: 'varchar', length: 128 }) signature!: string;
  @Column({ name: 'key_id', type: 'varchar', length: 64 }) keyId!: string;
  @Column({ name: 'uploaded_by', type: 'uuid', nullable: true }) uploadedBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
