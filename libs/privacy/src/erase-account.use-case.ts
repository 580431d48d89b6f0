import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AccessLogRepository } from './access-log.repository.js';
import { ConsentLedger } from './consent-ledger.js';
import { refuseErased } from './consent.service.js';
import { PersonalDataEraser } from './personal-data-eraser.js';
import { PersonalDataRepository } from './personal-data.repository.js';
import { PolicyService } from './policy.service.js';
import { RestrictionRepository } from './restriction.repository.js';

/**
 * DELETE /v1/me, in one transaction under the person's exclusive lock: the
 * ledger records the end of every granted purpose (channel
 * `account_erasure`, `service` last), the erasure hooks of every context run
 * (identity ends the logins and marks the account deleted; devices unbind;
 * faults cancels open repairs), then every tagged column of the person is
 * nulled. The access log and restriction go too. An erased account stays
 * erased: it cannot be erased, granted or restricted again.
 */
@Injectable()
export class EraseAccount {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ledger: ConsentLedger,
    private readonly eraser: PersonalDataEraser,
    private readonly policies: PolicyService,
    private readonly storage: PersonalDataRepository,
    private readonly accessLog: AccessLogRepository,
    private readonly restrictions: RestrictionRepository,
  ) {}

  async execute(subjectId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.storage.lockSubject(manager, subjectId, 'exclusive');
      const state = await this.ledger.currentState(subjectId, manager);
      refuseErased(state);
      const version = await this.policies.versionInForce(manager);
      const granted = state
        .filter((entry) => entry.granted)
        .sort((a, b) => (a.purpose === 'service' ? 1 : b.purpose === 'service' ? -1 : 0));
      for (const entry of granted) {
        await this.ledger.append(manager, {
          subjectId,
          purpose: entry.purpose,
          granted: false,
          policyVersion: version,
          channel: 'account_erasure',
        });
      }
      await this.eraser.eraseDead(manager, subjectId, new Set(), true);
      await this.accessLog.deleteOf(manager, subjectId);
      await this.restrictions.deleteOf(manager, subjectId);
    });
  }
}
