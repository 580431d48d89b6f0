import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { EntityManager } from 'typeorm';

/**
 * What another context does when a person signs in or renews a login, in the
 * same transaction as the new tokens: e.g. devices turns the shares waiting
 * for this phone into memberships. Identity does not know who listens; a
 * context takes part by providing a class marked @SignInHook('<context>').
 */
export interface SignInHook {
  onSignedIn(manager: EntityManager, account: { userId: string; phone: string }, now: Date): Promise<void>;
}

/** Marks a provider as a context's sign-in hook; the argument names it (e.g. 'devices'). */
export const SignInHook = DiscoveryService.createDecorator<string>();

/** Every @SignInHook of the running application, found once. */
@Injectable()
export class SignInHooks {
  private found: SignInHook[] | undefined;

  constructor(private readonly discovery: DiscoveryService) {}

  async run(manager: EntityManager, account: { userId: string; phone: string | null }, now: Date): Promise<void> {
    if (!account.phone) return;
    for (const hook of this.hooks()) await hook.onSignedIn(manager, { userId: account.userId, phone: account.phone }, now);
  }

  private hooks(): SignInHook[] {
    if (!this.found) {
      const byName = new Map<string, SignInHook>();
      for (const wrapper of this.discovery.getProviders({ metadataKey: SignInHook.KEY })) {
        const name = this.discovery.getMetadataByDecorator(SignInHook, wrapper);
        if (name && wrapper.instance && !byName.has(name)) byName.set(name, wrapper.instance as SignInHook);
      }
      this.found = [...byName.values()];
    }
    return this.found;
  }
}
