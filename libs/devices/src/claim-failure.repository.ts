import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** pairing_claim_failures: one row per wrong claim code, per account. */
@Injectable()
export class ClaimFailureRepository {
  /** Serialises one account's claim attempts until the transaction ends (as the OTP limiter does per phone). */
  async lockAccount(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pairing-claims:${userId}`]);
  }

  /** Forgets failures older than `since` and counts the rest, in one statement. */
  async countSince(manager: EntityManager, userId: string, since: Date): Promise<number> {
    const [{ count }] = (await manager.query(
      `WITH forgotten AS (DELETE FROM pairing_claim_failures WHERE user_id = $1 AND failed_at < $2)
       SELECT count(*)::int AS count FROM pairing_claim_failures WHERE user_id = $1 AND failed_at >= $2`,
      [userId, since],
    )) as Array<{ count: number }>;
    return count;
  }

  async record(manager: EntityManager, userId: string, at: Date): Promise<void> {
    await manager.query('INSERT INTO pairing_claim_failures (user_id, failed_at) VALUES ($1, $2)', [userId, at]);
  }

  async deleteOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('DELETE FROM pairing_claim_failures WHERE user_id = $1', [userId]);
  }
}
