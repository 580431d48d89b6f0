import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AccessLogService } from './access-log.service.js';
import { ConsentLedger } from './consent-ledger.js';
import { ConsentService } from './consent.service.js';
import { PrivacyExtensions } from './privacy-extensions.js';

/**
 * GET /v1/me/export: the privacy record (consents with their full history,
 * restriction, access log) plus every @ExportSection provider of the other
 * contexts (identity: `profile`; devices, pairings, faults,
 * repairs: their own). Read in one transaction, so the sections agree.
 */
@Injectable()
export class ExportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly consents: ConsentService,
    private readonly ledger: ConsentLedger,
    private readonly accessLog: AccessLogService,
    private readonly extensions: PrivacyExtensions,
  ) {}

  async export(subjectId: string): Promise<Record<string, unknown>> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const sections: Record<string, unknown> = {};
      for (const [name, section] of this.extensions.exportSections) sections[name] = await section.build(manager, subjectId);
      const history = await this.ledger.history(subjectId, manager);
      return {
        subjectId,
        exportedAt: new Date().toISOString(),
        ...sections,
        consents: {
          current: await this.consents.list(subjectId),
          history: history.map((event) => ({
            purpose: event.purpose,
            granted: event.granted,
            policyVersion: event.policyVersion,
            channel: event.channel,
            at: event.at.toISOString(),
          })),
        },
        restriction: await this.consents.restriction(subjectId),
        accessLog: await this.accessLog.list(subjectId, manager),
      };
    });
  }
}
