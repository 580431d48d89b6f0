import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PrivacyCatalog } from './catalog.js';
import { PersonalDataRepository } from './personal-data.repository.js';
import { PrivacyExtensions } from './privacy-extensions.js';

export interface RetentionResult {
  table: string;
  column: string;
  reason: 'period' | 'no-live-purpose';
  erased: number;
}

/**
 * Applies each category's period: a value whose `retainFrom` timestamp is
 * older than the period is set to NULL (e.g. pairing network info 24 hours
 * after the pairing ended). Then a sweep nulls any tagged value whose subject
 * has no live purpose for it (privacy_is_live in SQL), a backstop for data
 * written outside the writer or before a tag existed. Last, each context's
 * onRetentionApplied hook finishes its de-identification.
 */
@Injectable()
export class RetentionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly catalog: PrivacyCatalog,
    private readonly storage: PersonalDataRepository,
    private readonly extensions: PrivacyExtensions,
  ) {}

  async apply(now = new Date()): Promise<RetentionResult[]> {
    const results: RetentionResult[] = [];
    for (const table of this.catalog.sweptTables) {
      for (const column of table.columns) {
        const retention = this.catalog.config.categories[column.category].retention;
        const { retainFrom } = column;
        if (retention.kind === 'period' && retainFrom) {
          const cutoff = new Date(now.getTime() - retention.hours * 3600_000);
          const erased = await this.storage.eraseOlderThan(table, { ...column, retainFrom }, cutoff);
          results.push({ table: table.table, column: column.column, reason: 'period', erased });
        }
        const swept = await this.storage.eraseWithoutLivePurpose(table, column);
        results.push({ table: table.table, column: column.column, reason: 'no-live-purpose', erased: swept });
      }
    }
    for (const hook of this.extensions.erasureHooks) await hook.onRetentionApplied?.(this.dataSource.manager, now);
    return results;
  }
}

/** The hourly run inside provisioning (`npm run privacy:retention` does the same once). */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger('RetentionJob');
  constructor(private readonly retention: RetentionService) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'privacy-retention' })
  async run(): Promise<void> {
    const results = await this.retention.apply();
    const erased = results.reduce((sum, result) => sum + result.erased, 0);
    this.logger.log(`retention applied: ${erased} value(s) erased`);
  }
}
