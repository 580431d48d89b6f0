import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import { Clock } from './clock.js';
import { randomToken, sameHex, sha256 } from './hashing.js';
import { SessionRepository } from './session.repository.js';
import { SignInHooks } from './sign-in-hooks.js';
import type { Role } from './user.entity.js';
import { UserRepository } from './user.repository.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface AccessClaims {
  sub: string;
  sid: string;
  roles: Role[];
}

/**
 * Access tokens are short JWTs; refresh tokens are opaque `<id>.<secret>`,
 * single-use and rotated. Presenting a rotated one again means it leaked, so
 * the whole login (session) is revoked.
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly signIns: SignInHooks,
  ) {}

  async startSession(manager: EntityManager, userId: string, roles: Role[], method: string): Promise<TokenPair> {
    const sessionId = await this.sessions.create(manager, userId, method);
    await this.signedIn(manager, userId);
    return this.issue(manager, sessionId, userId, roles);
  }

  async refresh(presented: string): Promise<{ userId: string; tokens: TokenPair }> {
    const [id, secret] = presented.split('.');
    const invalid = new DomainError('UNAUTHORIZED', 'Refresh token is not valid; sign in again');
    if (!id || !secret || !/^[0-9a-f-]{36}$/.test(id)) throw invalid;
    const outcome = await this.dataSource.transaction(async (manager) => {
      const row = await this.sessions.lockRefreshToken(manager, id);
      if (!row || !sameHex(row.tokenHash, sha256(secret)) || row.revokedAt) return { kind: 'invalid' as const };
      if (row.usedAt) {
        await this.revokeSession(manager, row.sessionId, 'refresh_reuse');
        return { kind: 'reused' as const };
      }
      if (row.expiresAt.getTime() <= this.clock.now().getTime()) return { kind: 'invalid' as const };
      await this.sessions.markRefreshTokenUsed(manager, row.id, this.clock.now());
      await this.signedIn(manager, row.userId);
      return { kind: 'ok' as const, userId: row.userId, tokens: await this.issue(manager, row.sessionId, row.userId, row.roles) };
    });
    if (outcome.kind === 'reused') {
      throw new DomainError('UNAUTHORIZED', 'This refresh token was already used; the login has been ended for safety');
    }
    if (outcome.kind === 'invalid') throw invalid;
    return { userId: outcome.userId, tokens: outcome.tokens };
  }

  async revokeSession(manager: EntityManager, sessionId: string, reason: string): Promise<void> {
    await this.sessions.revoke(manager, sessionId, this.clock.now(), reason);
  }

  /** Ends every login of a user (account erased, role change). */
  async revokeAllSessions(manager: EntityManager, userId: string, reason: string): Promise<void> {
    await this.sessions.revokeAllOf(manager, userId, this.clock.now(), reason);
  }

  /** A login started or renewed: what other contexts wait for this person to sign in for (shares by phone) happens now. */
  private async signedIn(manager: EntityManager, userId: string): Promise<void> {
    const user = await this.users.findById(userId, manager);
    if (user && !user.deletedAt) await this.signIns.run(manager, { userId, phone: user.phone }, this.clock.now());
  }

  private async issue(manager: EntityManager, sessionId: string, userId: string, roles: Role[]): Promise<TokenPair> {
    const secret = randomToken();
    const ttlMs = this.config.auth.refreshTokenTtlDays * 24 * 3600 * 1000;
    const tokenId = await this.sessions.addRefreshToken(manager, {
      sessionId,
      tokenHash: sha256(secret),
      expiresAt: new Date(this.clock.now().getTime() + ttlMs),
    });
    const claims: AccessClaims = { sub: userId, sid: sessionId, roles };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: this.config.auth.accessTokenTtlSeconds });
    return { accessToken, refreshToken: `${tokenId}.${secret}` };
  }
}
