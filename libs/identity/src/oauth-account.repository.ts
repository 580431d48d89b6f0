import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OAuthAccountEntity } from './oauth-account.entity.js';

/** oauth_accounts: which of our accounts a provider identity signs in to. */
@Injectable()
export class OAuthAccountRepository {
  /** One account per provider identity, even when two logins race: held until the transaction ends. */
  async lockIdentity(manager: EntityManager, provider: string, subject: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`oauth:${provider}:${subject}`]);
  }

  find(manager: EntityManager, provider: string, subject: string): Promise<OAuthAccountEntity | null> {
    return manager.findOneBy(OAuthAccountEntity, { provider, subject });
  }

  async link(manager: EntityManager, provider: string, subject: string, userId: string): Promise<void> {
    await manager.insert(OAuthAccountEntity, { provider, subject, userId });
  }

  async deleteOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.delete(OAuthAccountEntity, { userId });
  }
}
