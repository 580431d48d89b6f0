import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { LoginSessionEntity } from './login-session.entity.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import type { Role } from './user.entity.js';

/** A refresh token with what rotation needs of its login and account, read under a row lock. */
export interface LockedRefreshToken {
  id: string;
  sessionId: string;
  tokenHash: string;
  usedAt: Date | null;
  expiresAt: Date;
  userId: string;
  revokedAt: Date | null;
  roles: Role[];
}

/** login_sessions and their refresh_tokens: one login and the tokens issued under it. */
@Injectable()
export class SessionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(manager: EntityManager, userId: string, method: string): Promise<string> {
    const session = await manager.save(manager.create(LoginSessionEntity, { userId, method }));
    return session.id;
  }

  async addRefreshToken(manager: EntityManager, token: { sessionId: string; tokenHash: string; expiresAt: Date }): Promise<string> {
    const saved = await manager.save(manager.create(RefreshTokenEntity, token));
    return saved.id;
  }

  /** The token of this id, locked for the rest of the transaction, unless its account is erased. */
  async lockRefreshToken(manager: EntityManager, id: string): Promise<LockedRefreshToken | undefined> {
    return manager
      .createQueryBuilder(RefreshTokenEntity, 'token')
      .innerJoin(LoginSessionEntity, 'session', 'session.id = token.session_id')
      .select(['token.id AS id', 'token.session_id AS "sessionId"', 'token.token_hash AS "tokenHash"'])
      .addSelect(['token.used_at AS "usedAt"', 'token.expires_at AS "expiresAt"'])
      .addSelect(['session.user_id AS "userId"', 'session.revoked_at AS "revokedAt"'])
      .addSelect('u.roles', 'roles')
      .innerJoin('users', 'u', 'u.id = session.user_id AND u.deleted_at IS NULL')
      .where('token.id = :id', { id })
      .setLock('pessimistic_write', undefined, ['token'])
      .getRawOne<LockedRefreshToken>();
  }

  async markRefreshTokenUsed(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.update(RefreshTokenEntity, { id }, { usedAt: at });
  }

  async revoke(manager: EntityManager, sessionId: string, at: Date, reason: string): Promise<void> {
    await manager.update(LoginSessionEntity, { id: sessionId, revokedAt: IsNull() }, { revokedAt: at, revokedReason: reason });
  }

  async revokeAllOf(manager: EntityManager, userId: string, at: Date, reason: string): Promise<void> {
    await manager.update(LoginSessionEntity, { userId, revokedAt: IsNull() }, { revokedAt: at, revokedReason: reason });
  }

  /** The account's roles when this login is live and the account not erased; undefined otherwise. */
  async liveRolesOf(sessionId: string, userId: string): Promise<Role[] | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT u.roles FROM login_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND u.deleted_at IS NULL`,
      [sessionId, userId],
    )) as Array<{ roles: Role[] }>;
    return rows[0]?.roles;
  }
}
