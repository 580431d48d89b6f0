import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig, type OAuthProviderConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import { ConsentService } from '#libs/privacy';
import { OAuthAccountRepository } from './oauth-account.repository.js';
import type { LoginResult } from './otp-login.service.js';
import { TokensService } from './tokens.service.js';
import { UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

export const OAUTH_PROVIDERS = ['wechat', 'qq'] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

interface ProviderProfile {
  subject: string;
  nickname: string | null;
}

/**
 * Third-party login as an OAuth2 authorization-code exchange: the app sends
 * the provider's code, we trade it at tokenUrl for an access token and read
 * the account id at profileUrl. One provider account maps to one of ours.
 */
@Injectable()
export class OAuthLoginService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly consents: ConsentService,
    private readonly accounts: OAuthAccountRepository,
    private readonly userRows: UserRepository,
  ) {}

  async login(providerName: string, code: string): Promise<LoginResult> {
    if (!(OAUTH_PROVIDERS as readonly string[]).includes(providerName)) {
      throw new DomainError('NOT_FOUND', `Unknown login provider "${providerName}"; use one of ${OAUTH_PROVIDERS.join(', ')}`);
    }
    const provider = providerName as OAuthProvider;
    const settings = this.config.oauth[provider];
    if (!settings.tokenUrl || !settings.profileUrl) {
      throw new DomainError('UNAVAILABLE', `Login with ${provider} is not configured on this server`);
    }
    const profile = await this.fetchProfile(settings, code);
    return this.dataSource.transaction(async (manager) => {
      // One account per provider identity, even when two logins race.
      await this.accounts.lockIdentity(manager, provider, profile.subject);
      const account = await this.accounts.find(manager, provider, profile.subject);
      let user = account ? await this.userRows.findById(account.userId, manager) : null;
      const created = !user;
      if (!user) {
        user = await this.users.createWithoutPhone(manager, profile.nickname);
        await this.accounts.link(manager, provider, profile.subject, user.id);
      }
      if (user.deletedAt) throw new DomainError('UNAUTHORIZED', 'This account was deleted');
      await this.consents.acceptService(manager, user.id, 'login');
      const tokens = await this.tokens.startSession(manager, user.id, user.roles, provider);
      return { ...tokens, user: { id: user.id, roles: user.roles }, created };
    });
  }

  private async fetchProfile(settings: OAuthProviderConfig, code: string): Promise<ProviderProfile> {
    const rejected = new DomainError('UNAUTHORIZED', 'The login provider did not accept this code');
    const tokenResponse = await fetch(settings.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: settings.clientId,
        client_secret: settings.clientSecret,
      }),
      signal: AbortSignal.timeout(5000),
    }).catch(() => {
      throw new DomainError('UPSTREAM_FAILED', 'The login provider could not be reached; try again shortly');
    });
    if (tokenResponse.status >= 500) throw new DomainError('UPSTREAM_FAILED', 'The login provider failed; try again shortly');
    const grant = (await tokenResponse.json().catch(() => ({}))) as { access_token?: unknown; openid?: unknown };
    if (!tokenResponse.ok || typeof grant.access_token !== 'string') throw rejected;
    const profileUrl = new URL(settings.profileUrl);
    profileUrl.searchParams.set('access_token', grant.access_token);
    if (typeof grant.openid === 'string') profileUrl.searchParams.set('openid', grant.openid);
    const profileResponse = await fetch(profileUrl, {
      headers: { authorization: `Bearer ${grant.access_token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    }).catch(() => {
      throw new DomainError('UPSTREAM_FAILED', 'The login provider could not be reached; try again shortly');
    });
    const body = (await profileResponse.json().catch(() => ({}))) as Record<string, unknown>;
    const subject = [body.unionid, body.openid, body.id, body.sub, grant.openid].find(
      (value): value is string | number => typeof value === 'string' || typeof value === 'number',
    );
    if (!profileResponse.ok || subject === undefined || String(subject).length > 128) throw rejected;
    const nickname = typeof body.nickname === 'string' ? body.nickname.slice(0, 64) : null;
    return { subject: String(subject), nickname };
  }
}
