import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '#libs/platform';
import { ConsentLedger, type ConsentState } from './consent-ledger.js';
import { LawfulBasis } from './lawful-basis.js';
import { PersonalDataEraser } from './personal-data-eraser.js';
import { PersonalDataRepository } from './personal-data.repository.js';
import { PolicyService } from './policy.service.js';
import { isPurpose, PURPOSES, type Purpose } from './purposes.js';
import { RestrictionRepository } from './restriction.repository.js';
import { inTransaction } from './transaction.js';

export interface ConsentView {
  purpose: Purpose;
  granted: boolean;
  /** null when the person never decided (not granted). */
  policyVersion: string | null;
  at: string | null;
}

/**
 * The person's consent decisions and restriction. Every change is a ledger
 * event and takes effect on data already held before the call returns.
 */
@Injectable()
export class ConsentService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ledger: ConsentLedger,
    private readonly basis: LawfulBasis,
    private readonly eraser: PersonalDataEraser,
    private readonly policies: PolicyService,
    private readonly storage: PersonalDataRepository,
    private readonly restrictions: RestrictionRepository,
  ) {}

  async list(subjectId: string, manager?: EntityManager): Promise<ConsentView[]> {
    const state = new Map((await this.ledger.currentState(subjectId, manager)).map((entry) => [entry.purpose, entry]));
    return PURPOSES.map((purpose) => {
      const entry = state.get(purpose);
      return {
        purpose,
        granted: entry?.granted ?? false,
        policyVersion: entry?.policyVersion ?? null,
        at: entry?.at.toISOString() ?? null,
      };
    });
  }

  /** PUT /v1/me/consents/:purpose. Withdrawing erases what was held only under that purpose, in every context. */
  async set(subjectId: string, purposeId: string, granted: boolean, channel = 'app'): Promise<ConsentView> {
    if (!isPurpose(purposeId))
      throw new DomainError('NOT_FOUND', `Unknown purpose "${purposeId}"; the purposes are ${PURPOSES.join(', ')}`);
    const purpose = purposeId;
    await this.dataSource.transaction(async (manager) => {
      await this.storage.lockSubject(manager, subjectId, 'exclusive');
      const state = await this.ledger.currentState(subjectId, manager);
      refuseErased(state);
      if (purpose === 'service' && !granted) {
        throw new DomainError(
          'CONFLICT',
          'The service purpose cannot be withdrawn on its own: it is what the account is. To end it, delete the account with DELETE /v1/me.',
        );
      }
      const version = await this.policies.versionInForce(manager);
      const current = state.find((entry) => entry.purpose === purpose);
      if (!current || current.granted !== granted || current.policyVersion !== version) {
        await this.ledger.append(manager, { subjectId, purpose, granted, policyVersion: version, channel });
      }
      await this.eraser.eraseDead(manager, subjectId, await this.basis.livePurposes(subjectId, manager));
    });
    return (await this.list(subjectId)).find((entry) => entry.purpose === purpose)!;
  }

  /**
   * Records acceptance of `service` under the version in force, unless the
   * person already accepted it: call it where an account starts being used
   * (first login, a staff account created by an admin), in that transaction.
   */
  async acceptService(manager: EntityManager | undefined, subjectId: string, channel: string): Promise<void> {
    await inTransaction(this.dataSource, manager, async (tx) => {
      await this.storage.lockSubject(tx, subjectId, 'exclusive');
      const state = await this.ledger.currentState(subjectId, tx);
      refuseErased(state);
      if (state.find((entry) => entry.purpose === 'service')?.granted) return;
      await this.ledger.append(tx, {
        subjectId,
        purpose: 'service',
        granted: true,
        policyVersion: await this.policies.versionInForce(tx),
        channel,
      });
    });
  }

  async restriction(subjectId: string, manager?: EntityManager): Promise<{ restricted: boolean }> {
    return { restricted: await this.basis.isRestricted(subjectId, manager) };
  }

  /**
   * POST /v1/me/restriction. While restricted only `service` is live: data
   * held under any other purpose is erased now (storing is processing too),
   * and later writes of it are dropped. Lifting the restriction does not
   * bring erased data back; consents stay as they were in the ledger.
   */
  async restrict(subjectId: string, restricted: boolean): Promise<{ restricted: boolean }> {
    await this.dataSource.transaction(async (manager) => {
      await this.storage.lockSubject(manager, subjectId, 'exclusive');
      refuseErased(await this.ledger.currentState(subjectId, manager));
      await this.restrictions.set(manager, subjectId, restricted);
      await this.eraser.eraseDead(manager, subjectId, await this.basis.livePurposes(subjectId, manager));
    });
    return { restricted };
  }
}

/** `service` ends only with the account, so a recorded end of it means the account was erased: nothing may start again. */
export function refuseErased(state: ConsentState[]): void {
  if (state.some((entry) => entry.purpose === 'service' && !entry.granted)) {
    throw new DomainError('NOT_FOUND', 'This account was erased');
  }
}
