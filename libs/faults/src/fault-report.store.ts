import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DeviceAccess } from '#libs/devices';
import type { FaultReportPayload } from '#libs/mqtt-contract';
import { PersonalDataWriter } from '#libs/privacy';
import { FaultReportEntity } from './fault-report.entity.js';
import { deidentified } from './fault-report-deidentification.js';

export interface IncomingReport {
  sn: string;
  report: FaultReportPayload;
  receivedAt: Date;
}

export type StoreResult = { stored: 'full' | 'deidentified' | 'duplicate' } | { stored: 'rejected'; reason: string };

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
    private readonly devices: DeviceAccess,
  ) {}

  async storeBatch(batch: readonly IncomingReport[]): Promise<StoreResult[]> {
    return this.dataSource.transaction(async (manager) => {
      const devices = await this.devices.factsOf(
        batch.map((incoming) => incoming.sn),
        manager,
      );
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
          // The writer dropped the owner link when fault_diagnostics is not live: then the whole report is de-identified.
          complete: ({ values }): Partial<FaultReportEntity> => (values.ownerId ? { ...values, stored: 'full' } : deidentified(values)),
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
}
