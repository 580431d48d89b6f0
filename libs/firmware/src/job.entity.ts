import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { JobState } from './campaign-rules.js';

/**
 * One device's part in a campaign. `pending` until its step starts; then
 * `notified` (the retained job is out, the deadline runs), `downloading` and
 * `installing` as the device reports, and it ends `succeeded` (only when the
 * device reports the target version), `failed`, `timedOut` or `withdrawn`.
 */
@Entity('firmware_jobs')
export class JobEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'campaign_id', type: 'uuid' }) campaignId!: string;
  @Column({ type: 'varchar', length: 64 }) sn!: string;
  @Column({ type: 'smallint' }) step!: number;
  @Column({ type: 'varchar', length: 16 }) state!: JobState;
  @Column({ type: 'smallint', nullable: true }) progress!: number | null;
  /** The device's reason for a failure. */
  @Column({ type: 'varchar', length: 256, nullable: true }) reason!: string | null;
  /** The firmware the device reported when it was targeted. */
  @Column({ name: 'from_version', type: 'varchar', length: 32, nullable: true }) fromVersion!: string | null;
  /** The firmware the device last reported while the job ran (e.g. back on its old version after a failed flash). */
  @Column({ name: 'reported_version', type: 'varchar', length: 32, nullable: true }) reportedVersion!: string | null;
  @Column({ name: 'notified_at', type: 'timestamptz', nullable: true }) notifiedAt!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) deadline!: Date | null;
  /** When the retained job message was handed to the broker; null means it must be sent (again). */
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true }) publishedAt!: Date | null;
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true }) endedAt!: Date | null;
  /** Set once the device is free for another campaign (its campaign is over and this job ended). */
  @Column({ name: 'released_at', type: 'timestamptz', nullable: true }) releasedAt!: Date | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
