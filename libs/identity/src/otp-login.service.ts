import { randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import { ConsentService } from '#libs/privacy';
import { Clock } from './clock.js';
import { keyedHash, sameHex } from './hashing.js';
import { OtpChallengeRepository } from './otp-challenge.repository.js';
import { SmsSender } from './sms-sender.js';
import { TokensService, type TokenPair } from './tokens.service.js';
import type { Role } from './user.entity.js';
import { UsersService } from './users.service.js';

export interface LoginResult extends TokenPair {
  user: { id: string; roles: Role[] };
  /** True when this login created the account (first login). */
  created: boolean;
}

type Verdict = { kind: 'ok'; result: LoginResult } | { kind: 'fail'; error: DomainError };

/**
 * Phone login with one-time codes: 6 digits, stored only as a keyed hash,
 * valid for otp.ttlSeconds and otp.maxAttempts tries. Sending is limited per
 * phone and per IP within an hour; a new code replaces the previous one.
 */
@Injectable()
export class OtpLoginService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly sms: SmsSender,
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly clock: Clock,
    private readonly consents: ConsentService,
    private readonly challenges: OtpChallengeRepository,
  ) {}

  async requestCode(phone: string, ip: string): Promise<void> {
    const { otp, otpPepper } = this.config.auth;
    const phoneHash = keyedHash(otpPepper, phone);
    const ipHash = keyedHash(otpPepper, `ip:${ip}`);
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    const now = this.clock.now();
    const hourAgo = new Date(now.getTime() - 3600_000);
    const challengeId = await this.dataSource.transaction(async (manager) => {
      // Serialise requests for one phone so two parallel calls cannot both slip under the limit.
      await this.challenges.lockPhone(manager, phoneHash);
      const { phoneCount, ipCount } = await this.challenges.countSince(manager, phoneHash, ipHash, hourAgo);
      if (phoneCount >= otp.perPhonePerHour) {
        throw new DomainError('TOO_MANY_REQUESTS', 'Too many codes requested for this phone; try again later');
      }
      if (ipCount >= otp.perIpPerHour) {
        throw new DomainError('TOO_MANY_REQUESTS', 'Too many codes requested from this address; try again later');
      }
      await this.challenges.consumeOpen(manager, phoneHash, now);
      return this.challenges.create(manager, {
        phoneHash,
        ipHash,
        codeHash: keyedHash(otpPepper, `${phone}:${code}`),
        expiresAt: new Date(now.getTime() + otp.ttlSeconds * 1000),
      });
    });
    try {
      await this.sms.sendCode(phone, code);
    } catch (error) {
      // An undelivered code must not count against the person's limit.
      await this.challenges.delete(challengeId);
      throw error;
    }
  }

  async login(phone: string, code: string): Promise<LoginResult> {
    const { otp, otpPepper } = this.config.auth;
    const phoneHash = keyedHash(otpPepper, phone);
    const verdict = await this.dataSource.transaction(async (manager): Promise<Verdict> => {
      const challenge = await this.challenges.latestOpenForUpdate(manager, phoneHash);
      const fail = (code: 'UNAUTHORIZED' | 'TOO_MANY_REQUESTS', message: string): Verdict => ({
        kind: 'fail',
        error: new DomainError(code, message),
      });
      if (!challenge) return fail('UNAUTHORIZED', 'No valid code for this phone; request a new one');
      if (challenge.attempts >= otp.maxAttempts) {
        return fail('TOO_MANY_REQUESTS', 'Too many wrong codes; request a new code');
      }
      if (challenge.expiresAt.getTime() <= this.clock.now().getTime()) {
        return fail('UNAUTHORIZED', 'The code has expired; request a new one');
      }
      if (!sameHex(challenge.codeHash, keyedHash(otpPepper, `${phone}:${code}`))) {
        const attempts = challenge.attempts + 1;
        await this.challenges.setAttempts(manager, challenge.id, attempts);
        return attempts >= otp.maxAttempts
          ? fail('TOO_MANY_REQUESTS', 'Too many wrong codes; this code no longer works, request a new one')
          : fail('UNAUTHORIZED', `Wrong code; ${otp.maxAttempts - attempts} tries left`);
      }
      await this.challenges.consume(manager, challenge.id, this.clock.now());
      const { user, created } = await this.users.findOrCreateByPhone(manager, phone);
      // First login accepts the service purpose under the policy version in force (a no-op afterwards).
      await this.consents.acceptService(manager, user.id, 'login');
      const tokens = await this.tokens.startSession(manager, user.id, user.roles, 'otp');
      return { kind: 'ok', result: { ...tokens, user: { id: user.id, roles: user.roles }, created } };
    });
    if (verdict.kind === 'fail') throw verdict.error;
    return verdict.result;
  }
}
