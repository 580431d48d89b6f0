import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { IdentityDirectory } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { PersonalDataWriter } from '#libs/privacy';
import { BindingRepository, type DeviceRole, type OwnedOrSharedRow } from './binding.repository.js';
import { DeviceHistory, type HistoryEntry } from './device-history.js';
import { DeviceInvitationEntity } from './device-invitation.entity.js';
import { DeviceInvitationRepository } from './device-invitation.repository.js';
import { DeviceRelease } from './device-release.js';

export interface DeviceView {
  sn: string;
  model: string;
  role: DeviceRole;
  online: boolean;
  lastSeenAt: string | null;
}

export function toDeviceView(row: OwnedOrSharedRow): DeviceView {
  return {
    sn: row.sn,
    model: row.model,
    role: row.role,
    online: row.online,
    lastSeenAt: row.last_seen_at ? new Date(row.last_seen_at).toISOString() : null,
  };
}

/** How long a share by phone waits for that phone to sign in. */
export const INVITATION_DAYS = 30;

/** The answer to a share by phone: the same whether or not the phone has an account. */
export interface InvitationView {
  sn: string;
  status: 'pending';
  expiresAt: string;
}

export interface MemberView {
  sn: string;
  userId: string;
  addedAt: string;
}

/**
 * What an account does with its devices once bound: list them, unbind, share
 * with family members and stop sharing; and what the appliance does when it is
 * factory reset. Every departure is written to the history of the people who
 * lose the device, so a former owner sees when and how it left.
 */
@Injectable()
export class DeviceOwnership {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly bindings: BindingRepository,
    private readonly history: DeviceHistory,
    private readonly releases: DeviceRelease,
    private readonly identity: IdentityDirectory,
    private readonly invitations: DeviceInvitationRepository,
    private readonly writer: PersonalDataWriter,
  ) {}

  /** GET /v1/devices: owned and shared devices with presence. */
  async list(userId: string, manager?: EntityManager): Promise<DeviceView[]> {
    return (await this.bindings.devicesOf(userId, manager)).map(toDeviceView);
  }

  /** GET /v1/devices/history: newest first. */
  historyOf(userId: string): Promise<HistoryEntry[]> {
    return this.history.of(this.dataSource.manager, userId);
  }

  /** DELETE /v1/devices/:sn by the owner; the device's credentials are untouched. */
  async unbind(userId: string, sn: string, now = new Date()): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.requireOwner(manager, userId, sn, 'unbind it');
      await this.releases.release(manager, sn, 'unbound', now);
    });
  }

  /** The appliance reported a factory reset: whoever owned or shared it loses it. Idempotent. */
  async releaseAfterFactoryReset(sn: string, now = new Date()): Promise<{ released: boolean }> {
    return this.dataSource.transaction(async (manager) => ({ released: await this.releases.release(manager, sn, 'factory_reset', now) }));
  }

  /**
   * POST /v1/devices/:sn/members {phone}: the owner shares with whoever signs
   * in with this phone. The answer and what the owner sees afterwards are the
   * same whether or not the phone has an account, so sharing cannot be used to
   * learn who is a customer: the share waits, and becomes a membership when
   * that phone next signs in or renews its login (acceptInvitations).
   */
  async addMember(ownerId: string, sn: string, phone: string, now = new Date()): Promise<InvitationView> {
    return this.dataSource.transaction(async (manager) => {
      await this.requireOwner(manager, ownerId, sn, 'share it');
      // The owner's own phone is no secret to the owner.
      if ((await this.identity.contactOf(ownerId, manager))?.phone === phone) {
        throw new DomainError('CONFLICT', 'The owner already has the device');
      }
      const expiresAt = new Date(now.getTime() + INVITATION_DAYS * 86_400_000);
      await this.invitations.deleteOne(manager, sn, phone);
      await this.writer.insert(DeviceInvitationEntity, ownerId, { sn, phone, createdAt: now, expiresAt }, manager);
      return { sn, status: 'pending', expiresAt: expiresAt.toISOString() };
    });
  }

  /** The account of `phone` signed in: each live share waiting for the phone becomes a membership. */
  async acceptInvitations(manager: EntityManager, userId: string, phone: string, now: Date): Promise<void> {
    for (const invitation of await this.invitations.takeFor(manager, phone, now)) {
      if (invitation.ownerId === userId) continue;
      const membership = await this.bindings.addMember(manager, invitation.sn, userId, now);
      if (membership.added) await this.history.record(manager, { userId, sn: invitation.sn, role: 'member', event: 'shared', at: now });
    }
  }

  /** GET /v1/devices/:sn/members (owner only). */
  async members(ownerId: string, sn: string): Promise<MemberView[]> {
    await this.requireOwner(this.dataSource.manager, ownerId, sn, 'see who shares it');
    const members = await this.bindings.membersOf(sn);
    return members.map((member) => ({ sn, userId: member.userId, addedAt: member.addedAt.toISOString() }));
  }

  /** DELETE /v1/devices/:sn/members/:userId: the owner stops sharing, or a member leaves. */
  async removeMember(actorId: string, sn: string, memberId: string, now = new Date()): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (actorId !== memberId) await this.requireOwner(manager, actorId, sn, 'stop sharing it');
      if (!(await this.bindings.removeMember(manager, sn, memberId))) {
        throw new DomainError('NOT_FOUND', 'This account is not a member of the device');
      }
      await this.history.record(manager, { userId: memberId, sn, role: 'member', event: 'unshared', at: now });
    });
  }

  private async requireOwner(manager: EntityManager, userId: string, sn: string, what: string): Promise<void> {
    const role = await this.bindings.roleOf(userId, sn, manager);
    // Someone without access learns nothing about the device, not even that it is bound.
    if (role === null) throw new DomainError('NOT_FOUND', 'No such device among yours');
    if (role !== 'owner') throw new DomainError('FORBIDDEN', `Only the owner may ${what}`);
  }
}
