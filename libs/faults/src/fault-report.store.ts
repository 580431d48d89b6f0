import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { FaultReportPayload } from '#libs/mqtt-contract';
import { PersonalDataWriter } from '#libs/privacy';
import { FaultReportEntity } from './fault-report.entity.js';

export interface IncomingReport {
  sn: string;
  report: FaultReportPayload;
  receivedAt: Date;
}

export type StoreResult = { stored: 'full' | 'deidentified' | 'duplicate' } | { stored: 'rejected'; reason: string };

interface DeviceFacts {
  sn: string;
  model: string;
  mac: string;
  firmware: string | null;
  ownerId: string | null;
}

/** Midnight UTC of the instant's day: all a de-identified record keeps of its times. */
export function dayOf(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
}

/**
 * Stores a batch of validated reports in one transaction. Each report goes
 * through the personal-data writer with the device's owner as the subject:
 * it keeps SN, MAC, diagnostics and the owner link only while the owner's
 * `fault_diagnostics` is live; otherwise the writer drops them and the row
 * is completed as de-identified (times cut to the day). The primary key on
 * report_id decides duplicates (ON CONFLICT DO NOTHING), not a lookup.
 */
@Injectable()
export class FaultReportStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly writer: PersonalDataWriter,
  ) {}

  async storeBatch(batch: readonly IncomingReport[]): Promise<StoreResult[]> {
    return this.dataSource.transaction(async (manager) => {
      const devices = await this.devicesOf(manager, [...new Set(batch.map((incoming) => incoming.sn))]);
      const results: Array<StoreResult | undefined> = batch.map((incoming) =>
        devices.has(incoming.sn) ? undefined : { stored: 'rejected', reason: 'unknown device' },
      );
      const toWrite = batch.flatMap((incoming, index) => (results[index] ? [] : [{ incoming, index, device: devices.get(incoming.sn)! }]));
      const outcomes = await this.writer.insertMany(
        FaultReportEntity,
        toWrite.map(({ incoming, device }) => ({
          subjectId: device.ownerId,
          values: {
            reportId: incoming.report.reportId,
            sn: device.sn,
            mac: device.mac,
            diagnostics: incoming.report.diagnostics ? { ...incoming.report.diagnostics } : null,
            model: device.model,
            firmware: incoming.report.firmware ?? device.firmware,
            code: incoming.report.code,
            severity: incoming.report.severity,
            occurredAt: new Date(incoming.report.occurredAt),
            receivedAt: incoming.receivedAt,
          } satisfies Partial<FaultReportEntity>,
        })),
        {
          skipConflicts: true,
          complete: ({ values }): Partial<FaultReportEntity> =>
            values.ownerId
              ? { ...values, stored: 'full' }
              : { ...values, stored: 'deidentified', occurredAt: dayOf(values.occurredAt!), receivedAt: dayOf(values.receivedAt!) },
        },
        manager,
      );
      toWrite.forEach(({ index }, position) => {
        const outcome = outcomes[position];
        results[index] = outcome.inserted ? { stored: outcome.values.stored! } : { stored: 'duplicate' };
      });
      return results as StoreResult[];
    });
  }

  private async devicesOf(manager: EntityManager, sns: string[]): Promise<Map<string, DeviceFacts>> {
    const rows = (await manager.query(
      `SELECT d.sn, d.model, d.mac, d.firmware, b.owner_id AS "ownerId"
         FROM devices d LEFT JOIN device_bindings b ON b.sn = d.sn
        WHERE d.sn = ANY($1::varchar[])`,
      [sns],
    )) as DeviceFacts[];
    return new Map(rows.map((row) => [row.sn, row]));
  }
}
