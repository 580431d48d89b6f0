import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SignInHook } from '#libs/identity';
import { ErasureHook, ExportSection } from '#libs/privacy';
import { BindingRepository } from './binding.repository.js';
import { ClaimFailureRepository } from './claim-failure.repository.js';
import { DeviceHistoryRepository } from './device-history.repository.js';
import { DeviceInvitationRepository } from './device-invitation.repository.js';
import { DeviceHistory } from './device-history.js';
import { DeviceOwnership, toDeviceView } from './device-ownership.service.js';
import { DeviceRelease } from './device-release.js';
import { PairingRepository } from './pairing.repository.js';
import { ReportedPointRepository } from './reported-point.repository.js';
import { DesiredStateRepository } from './desired-state.repository.js';
import { toHistoryEntryView } from './state.dto.js';

/**
 * Devices' part of an erasure: the person's devices are released (members
 * read `owner_left`; what they reported for the person goes with them), their
 * memberships, history, pairings, claim-code failures and the shares they
 * sent that still wait are deleted, with the state history of their devices;
 * their control requests on devices others own stay in those owners' history
 * without saying who asked. Retention erases an invitation's phone a day
 * after it expired; the row then goes too.
 */
@ErasureHook('devices')
@Injectable()
export class DevicesErasure implements ErasureHook {
  constructor(
    private readonly bindings: BindingRepository,
    private readonly releases: DeviceRelease,
    private readonly history: DeviceHistoryRepository,
    private readonly pairings: PairingRepository,
    private readonly claimFailures: ClaimFailureRepository,
    private readonly reported: ReportedPointRepository,
    private readonly desired: DesiredStateRepository,
    private readonly invitations: DeviceInvitationRepository,
  ) {}

  async onAccountErased(manager: EntityManager, subjectId: string): Promise<void> {
    const now = new Date();
    for (const sn of await this.bindings.lockOwnedBy(manager, subjectId)) await this.releases.release(manager, sn, 'owner_left', now);
    await this.bindings.deleteMembershipsOf(manager, subjectId);
    await this.history.deleteOf(manager, subjectId);
    await this.pairings.deleteOf(manager, subjectId);
    await this.claimFailures.deleteOf(manager, subjectId);
    await this.reported.deleteOfOwner(manager, subjectId);
    await this.desired.deleteOfOwner(manager, subjectId);
    await this.desired.forgetRequester(manager, subjectId);
    await this.invitations.deleteOf(manager, subjectId);
  }

  async onRetentionApplied(manager: EntityManager): Promise<void> {
    await this.invitations.deleteErased(manager);
  }
}

/** `deviceInvitations` in GET /v1/me/export: the shares by phone the person sent that still wait for that phone to sign in. */
@ExportSection('deviceInvitations')
@Injectable()
export class DeviceInvitationsExport implements ExportSection {
  constructor(private readonly invitations: DeviceInvitationRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    return (await this.invitations.exportOf(manager, subjectId)).map((row) => ({
      sn: row.sn,
      phone: row.phone,
      createdAt: new Date(row.created_at).toISOString(),
      expiresAt: new Date(row.expires_at).toISOString(),
    }));
  }
}

/** Shares by phone become memberships when that phone signs in (or renews its login). */
@SignInHook('devices')
@Injectable()
export class DevicesSignIn implements SignInHook {
  constructor(private readonly ownership: DeviceOwnership) {}

  onSignedIn(manager: EntityManager, account: { userId: string; phone: string }, now: Date): Promise<void> {
    return this.ownership.acceptInvitations(manager, account.userId, account.phone, now);
  }
}

/** `devices` in GET /v1/me/export: owned and shared devices with presence. */
@ExportSection('devices')
@Injectable()
export class DevicesExport implements ExportSection {
  constructor(private readonly bindings: BindingRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    return (await this.bindings.devicesOf(subjectId, manager)).map(toDeviceView);
  }
}

/** `deviceHistory` in GET /v1/me/export. */
@ExportSection('deviceHistory')
@Injectable()
export class DeviceHistoryExport implements ExportSection {
  constructor(private readonly history: DeviceHistory) {}

  build(manager: EntityManager, subjectId: string): Promise<unknown> {
    return this.history.of(manager, subjectId);
  }
}

/** `pairings` in GET /v1/me/export, with the network info each still holds. */
@ExportSection('pairings')
@Injectable()
export class PairingsExport implements ExportSection {
  constructor(private readonly pairings: PairingRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);
    return (await this.pairings.exportOf(manager, subjectId)).map((row) => ({
      pairingId: row.id,
      sn: row.sn,
      status: row.status,
      createdAt: iso(row.created_at),
      expiresAt: iso(row.expires_at),
      endedAt: row.status === 'pending' ? null : iso(row.ended_at),
      network: {
        phoneModel: row.phone_model,
        osVersion: row.os_version,
        routerMac: row.router_mac,
        hiddenSsid: row.hidden_ssid,
        networkId: row.network_id,
        wifiName: row.wifi_name,
      },
    }));
  }
}

/** `deviceState` in GET /v1/me/export: what the person's devices reported, per device: `{<sn>: {reported: {<point>: {value, at}}}}`. */
@ExportSection('deviceState')
@Injectable()
export class DeviceStateExport implements ExportSection {
  constructor(private readonly reported: ReportedPointRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    const bySn: Record<string, { reported: Record<string, { value: unknown; at: string }> }> = {};
    for (const row of await this.reported.ofOwner(manager, subjectId)) {
      (bySn[row.sn] ??= { reported: {} }).reported[row.point] = { value: row.value, at: row.at.toISOString() };
    }
    return bySn;
  }
}

/**
 * `deviceControl` in GET /v1/me/export: the control requests held for the
 * person (the state history of the devices they own), per device, oldest
 * first: `{<sn>: [{version, values, status, requestedAt, requestedBy, settledAt}]}`.
 */
@ExportSection('deviceControl')
@Injectable()
export class DeviceControlExport implements ExportSection {
  constructor(private readonly desired: DesiredStateRepository) {}

  async build(manager: EntityManager, subjectId: string): Promise<unknown> {
    const bySn: Record<string, ReturnType<typeof toHistoryEntryView>[]> = {};
    for (const row of await this.desired.ofOwner(manager, subjectId)) (bySn[row.sn] ??= []).push(toHistoryEntryView(row));
    return bySn;
  }
}
