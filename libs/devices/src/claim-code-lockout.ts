import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { ClaimFailureRepository } from './claim-failure.repository.js';

const WINDOW_MS = 3600_000;

/**
 * "A wrong claim code five times in an hour gives 429": an account that
 * presented `pairing.claimFailuresPerHour` wrong claim codes within the last
 * hour is refused before its label is even read, right code or not.
 *
 * `isLockedOut` takes the account's lock for the rest of the caller's
 * transaction, so a check and the failure it may record are one step:
 * parallel wrong guesses queue up behind each other and cannot all pass a
 * count taken before any of them was recorded.
 */
@Injectable()
export class ClaimCodeLockout {
  constructor(
    private readonly config: AppConfig,
    private readonly failures: ClaimFailureRepository,
  ) {}

  async isLockedOut(manager: EntityManager, userId: string, now: Date): Promise<boolean> {
    await this.failures.lockAccount(manager, userId);
    const recent = await this.failures.countSince(manager, userId, new Date(now.getTime() - WINDOW_MS));
    return recent >= this.config.pairing.claimFailuresPerHour;
  }

  /** Counts a wrong claim code; call it in the transaction that checked isLockedOut, and commit it. */
  recordFailure(manager: EntityManager, userId: string, now: Date): Promise<void> {
    return this.failures.record(manager, userId, now);
  }
}
