import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DataSubject, PersonalData } from '#libs/privacy';

export const FAULT_SEVERITY_VALUES = ['info', 'warning', 'critical'] as const;
export type FaultSeverity = (typeof FAULT_SEVERITY_VALUES)[number];
export type StoredForm = 'full' | 'deidentified';

export interface FaultDiagnosticsValue {
  mac?: string;
  routerMac?: string;
  wifiName?: string;
  rssi?: number;
  ip?: string;
}

/**
 * One fault report from an appliance. `full` while its owner lets us keep
 * diagnostics (`fault_diagnostics` live): SN, MAC, diagnostics and the link
 * to the owner are tagged with that purpose, so the writer drops them when it
 * is not live and withdrawal erases them. What is left, the de-identified
 * form, is model, firmware, code, severity and the day: product statistics
 * that point at no device and no person.
 */
@Entity('fault_reports')
export class FaultReportEntity {
  /** The device's own id for the report: the primary key makes a resend a no-op. */
  @PrimaryColumn({ name: 'report_id', type: 'uuid' }) reportId!: string;
  @Column({ type: 'varchar', length: 16 }) stored!: StoredForm;

  @PersonalData({ category: 'device_sn', purposes: ['fault_diagnostics'], retainFrom: 'receivedAt' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  sn!: string | null;

  @PersonalData({ category: 'device_mac', purposes: ['fault_diagnostics'], retainFrom: 'receivedAt' })
  @Column({ type: 'varchar', length: 17, nullable: true })
  mac!: string | null;

  @PersonalData({ category: 'fault_diagnostics', purposes: ['fault_diagnostics'], retainFrom: 'receivedAt' })
  @Column({ type: 'jsonb', nullable: true })
  diagnostics!: FaultDiagnosticsValue | null;

  /** The device's owner when the report came in; cutting it is what de-identifies the report. */
  @DataSubject()
  @PersonalData({ category: 'owner_link', purposes: ['fault_diagnostics'], retainFrom: 'receivedAt' })
  @Column({ name: 'owner_id', type: 'uuid', nullable: true })
  ownerId!: string | null;

  @Column({ type: 'varchar', length: 64 }) model!: string;
  @Column({ type: 'varchar', length: 32, nullable: true }) firmware!: string | null;
  @Column({ type: 'varchar', length: 64 }) code!: string;
  @Column({ type: 'varchar', length: 16 }) severity!: FaultSeverity;
  /** Exact time for a full report; midnight UTC of the day for a de-identified one. */
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  /** When we stored it; cut to the day like occurredAt once de-identified. */
  @Column({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
}
