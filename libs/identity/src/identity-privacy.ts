import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ErasureHook, ExportSection } from '#libs/privacy';
import { Clock } from './clock.js';
import { OAuthAccountRepository } from './oauth-account.repository.js';
import { SessionRepository } from './session.repository.js';
import { UserRepository } from './user.repository.js';
import { toProfileView } from './users.service.js';

/** Identity's part of an erasure: the account is marked deleted, every login ends, third-party links go. */
@ErasureHook('identity')
@Injectable()
export class IdentityErasure implements ErasureHook {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly oauthAccounts: OAuthAccountRepository,
    private readonly clock: Clock,
  ) {}

  async onAccountErased(manager: EntityManager, subjectId: string): Promise<void> {
    const now = this.clock.now();
    await this.users.markDeleted(manager, subjectId, now);
    await this.sessions.revokeAllOf(manager, subjectId, now, 'account_erased');
    // The provider identity may then sign up again as a new person, like the phone.
    await this.oauthAccounts.deleteOf(manager, subjectId);
  }
}

/** `profile` in GET /v1/me/export. */
@ExportSection('profile')
@Injectable()
export class ProfileExport implements ExportSection {
  constructor(private readonly users: UserRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    const user = await this.users.findById(subjectId, manager);
    return user ? toProfileView(user) : null;
  }
}
