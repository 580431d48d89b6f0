import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { CampaignStatus, PauseReason } from './campaign-rules.js';

/** A staged rollout of one image to the devices targeted when it was created (its jobs). */
@Entity('firmware_campaigns')
export class CampaignEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'firmware_id', type: 'uuid' }) firmwareId!: string;
  @Column({ type: 'varchar', length: 16 }) status!: CampaignStatus;
  /** Why it is paused: an admin asked, or a step's failures went above the threshold. */
  @Column({ name: 'pause_reason', type: 'varchar', length: 32, nullable: true }) pauseReason!: PauseReason | null;
  /** Cumulative percentages of the targets, rising, ending at 100. */
  @Column({ type: 'smallint', array: true }) steps!: number[];
  /** The current step, 1-based. */
  @Column({ type: 'smallint' }) step!: number;
  @Column({ type: 'integer' }) targeted!: number;
  @Column({ name: 'failure_threshold', type: 'double precision' }) failureThreshold!: number;
  @Column({ name: 'job_timeout_seconds', type: 'integer' }) jobTimeoutSeconds!: number;
  @Column({ name: 'allow_downgrade', type: 'boolean' }) allowDowngrade!: boolean;
  @Column({ name: 'from_versions', type: 'varchar', length: 32, array: true, nullable: true }) fromVersions!: string[] | null;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true }) endedAt!: Date | null;
}
