import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AccessLogService } from './access-log.service.js';
import { ConsentLedger } from './consent-ledger.js';
import { ConsentService } from './consent.service.js';
import { PrivacyExtensions } from './privacy-extensions.js';

/** Text gathered before it is handed on: big enough that a million readings are not a million writes. */
const CHUNK_CHARS = 64 * 1024;

/**
 * GET /v1/me/export: the privacy record (consents with their full history,
 * restriction, access log) plus every @ExportSection provider of the other
 * contexts (identity: `profile`; devices, pairings, faults, repairs,
 * telemetry: their own). Read in one REPEATABLE READ transaction, so the
 * sections agree, and produced as JSON text piece by piece: a section that
 * answers an AsyncIterable (readings) is never held whole in memory.
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

  /** The whole export as one object (for callers that want it in memory; GET /v1/me/export streams). */
  async export(subjectId: string): Promise<Record<string, unknown>> {
    let text = '';
    for await (const chunk of this.stream(subjectId)) text += chunk;
    return JSON.parse(text) as Record<string, unknown>;
  }

  /**
   * The export as JSON text in chunks. The transaction stays open while the
   * caller consumes them and ends when the iteration ends, however it ends
   * (a client that goes away stops it with return()).
   */
  async *stream(subjectId: string): AsyncGenerator<string> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      const manager = runner.manager;
      let pending = `{"subjectId":${JSON.stringify(subjectId)},"exportedAt":${JSON.stringify(new Date().toISOString())}`;
      for (const [name, section] of this.extensions.exportSections) {
        const value = section.build(manager, subjectId);
        pending += `,${JSON.stringify(name)}:`;
        if (!isAsyncIterable(value)) {
          pending += JSON.stringify((await value) ?? null);
          continue;
        }
        pending += '[';
        let first = true;
        for await (const item of value) {
          pending += (first ? '' : ',') + JSON.stringify(item);
          first = false;
          if (pending.length >= CHUNK_CHARS) {
            yield pending;
            pending = '';
          }
        }
        pending += ']';
      }
      const history = await this.ledger.history(subjectId, manager);
      const rest = {
        consents: {
          // Everything on the export's own connection: one taken from the pool while holding
          // this one would let a handful of concurrent exports wait on each other forever.
          current: await this.consents.list(subjectId, manager),
          history: history.map((event) => ({
            purpose: event.purpose,
            granted: event.granted,
            policyVersion: event.policyVersion,
            channel: event.channel,
            at: event.at.toISOString(),
          })),
        },
        restriction: await this.consents.restriction(subjectId, manager),
        accessLog: await this.accessLog.list(subjectId, manager),
      };
      yield `${pending},${JSON.stringify(rest).slice(1)}`;
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
