import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { OtpChallengeEntity } from './otp-challenge.entity.js';

/** otp_challenges: one-time codes, with phone and address held only as keyed hashes. */
@Injectable()
export class OtpChallengeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Serialises code requests for one phone until the transaction ends, so parallel calls cannot both slip under the limit. */
  async lockPhone(manager: EntityManager, phoneHash: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [phoneHash]);
  }

  async countSince(
    manager: EntityManager,
    phoneHash: string,
    ipHash: string,
    since: Date,
  ): Promise<{ phoneCount: number; ipCount: number }> {
    const [counts] = (await manager.query(
      `SELECT count(*) FILTER (WHERE phone_hash = $1)::int AS "phoneCount",
              count(*) FILTER (WHERE ip_hash = $2)::int AS "ipCount"
         FROM otp_challenges WHERE created_at > $3 AND (phone_hash = $1 OR ip_hash = $2)`,
      [phoneHash, ipHash, since],
    )) as Array<{ phoneCount: number; ipCount: number }>;
    return counts;
  }

  /** A new code replaces the open one. */
  async consumeOpen(manager: EntityManager, phoneHash: string, at: Date): Promise<void> {
    await manager.update(OtpChallengeEntity, { phoneHash, consumedAt: IsNull() }, { consumedAt: at });
  }

  async create(
    manager: EntityManager,
    challenge: Pick<OtpChallengeEntity, 'phoneHash' | 'ipHash' | 'codeHash' | 'expiresAt'>,
  ): Promise<string> {
    return (await manager.save(manager.create(OtpChallengeEntity, challenge))).id;
  }

  async delete(id: string): Promise<void> {
    await this.dataSource.getRepository(OtpChallengeEntity).delete({ id });
  }

  /** The newest open code of the phone, locked for the rest of the transaction. */
  latestOpenForUpdate(manager: EntityManager, phoneHash: string): Promise<OtpChallengeEntity | null> {
    return manager.findOne(OtpChallengeEntity, {
      where: { phoneHash, consumedAt: IsNull() },
      order: { createdAt: 'DESC' },
      lock: { mode: 'pessimistic_write' },
    });
  }

  async setAttempts(manager: EntityManager, id: string, attempts: number): Promise<void> {
    await manager.update(OtpChallengeEntity, { id }, { attempts });
  }

  async consume(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.update(OtpChallengeEntity, { id }, { consumedAt: at });
  }
}
