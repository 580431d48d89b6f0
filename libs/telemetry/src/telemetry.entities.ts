import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';

/** The erasure hook (TelemetryErasure) that deletes these tables' rows whole: by series, by partition, by age. */
export const TELEMETRY_ERASURE = 'telemetry';

const READINGS = { category: 'appliance_readings', purposes: ['service'], retainFrom: 'at' } as const;
const SUMMARIES = { category: 'appliance_summaries', purposes: ['service'], retainFrom: 'at' } as const;

/**
 * One device's point for one owner: a reading belongs to the series of the
 * device's owner when it arrived, so a new owner gets new series and sees
 * none of the previous owner's readings.
 */
@Entity('telemetry_series')
export class TelemetrySeriesEntity {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @DataSubject({ rowsErasedBy: TELEMETRY_ERASURE }) @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  @PersonalData({ category: 'appliance_summaries', purposes: ['service'], retainFrom: 'lastAt' })
  @Column({ type: 'varchar', length: 64 })
  sn!: string;
  @Column({ type: 'varchar', length: 40 }) point!: string;
  /** The newest reading's time: the series goes a year after it (with its last summaries). */
  @Column({ name: 'last_at', type: 'timestamptz' }) lastAt!: Date;
}

/** One reading (telemetry_readings is partitioned by day on `at`). Exactly one of the three values is set, by the point's type. */
@Entity('telemetry_readings')
export class TelemetryReadingEntity {
  @PrimaryColumn({ name: 'series_id', type: 'integer' }) seriesId!: number;
  @PersonalData(READINGS) @PrimaryColumn({ type: 'timestamptz' }) at!: Date;
  @DataSubject({ rowsErasedBy: TELEMETRY_ERASURE }) @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  /** integer and number points. */
  @PersonalData(READINGS) @Column({ name: 'value_num', type: 'double precision', nullable: true }) valueNum!: number | null;
  /** enum and string points. */
  @PersonalData(READINGS) @Column({ name: 'value_text', type: 'text', nullable: true }) valueText!: string | null;
  /** boolean points. */
  @PersonalData(READINGS) @Column({ name: 'value_bool', type: 'boolean', nullable: true }) valueBool!: boolean | null;
}

/** Count, minimum, maximum and sum of a numeric series per hour and per day (UTC), kept as readings arrive. */
@Entity('telemetry_rollups')
export class TelemetryRollupEntity {
  @PrimaryColumn({ name: 'series_id', type: 'integer' }) seriesId!: number;
  @PrimaryColumn({ type: 'varchar', length: 4 }) bucket!: 'hour' | 'day';
  @PersonalData(SUMMARIES) @PrimaryColumn({ type: 'timestamptz' }) at!: Date;
  @DataSubject({ rowsErasedBy: TELEMETRY_ERASURE }) @Column({ name: 'owner_id', type: 'uuid' }) ownerId!: string;
  @PersonalData(SUMMARIES) @Column({ type: 'integer' }) count!: number;
  @PersonalData(SUMMARIES) @Column({ type: 'double precision' }) min!: number;
  @PersonalData(SUMMARIES) @Column({ type: 'double precision' }) max!: number;
  @PersonalData(SUMMARIES) @Column({ type: 'double precision' }) sum!: number;
}

export const TELEMETRY_ENTITIES = [TelemetrySeriesEntity, TelemetryReadingEntity, TelemetryRollupEntity];
