import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError } from '#libs/platform';
import { registerErasureHook, registerExportSection } from '#libs/privacy';
import { DeviceAccess, type DeviceRole } from './device-access.js';
import { DeviceHistory, type HistoryEntry } from './device-history.js';
import type { HistoryEvent } from './pairing.entity.js';

export interface DeviceView {
  sn: string;
  model: string;
  role: DeviceRole;
  online: boolean;
  lastSeenAt: string | null;
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
export class DeviceOwnership implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: DeviceAccess,
    private readonly history: DeviceHistory,
  ) {}

  /** Devices' part of the rights: export sections, and on account erasure the person's devices are released. */
  onModuleInit(): void {
    registerExportSection('devices', (manager, subjectId) => this.list(subjectId, manager));
    registerExportSection('deviceHistory', (manager, subjectId) => this.history.of(manager, subjectId));
    registerExportSection('pairings', (manager, subjectId) => exportPairings(manager, subjectId));
    registerErasureHook({
      name: 'devices',
      onAccountErased: async (manager, subjectId) => {
        const owned = (await manager.query('SELECT sn FROM device_bindings WHERE owner_id = $1 FOR UPDATE', [subjectId])) as Array<{
          sn: string;
        }>;
        for (const { sn } of owned) await this.release(manager, sn, 'owner_left', new Date());
        await manager.query('DELETE FROM device_members WHERE user_id = $1', [subjectId]);
        await manager.query('DELETE FROM device_history WHERE user_id = $1', [subjectId]);
        await manager.query('DELETE FROM pairings WHERE user_id = $1', [subjectId]);
        await manager.query('DELETE FROM pairing_claim_failures WHERE user_id = $1', [subjectId]);
      },
    });
  }

  /** GET /v1/devices: owned and shared devices with presence. */
  async list(userId: string, manager: EntityManager = this.dataSource.manager): Promise<DeviceView[]> {
    const rows = (await manager.query(
      `SELECT d.sn, d.model, 'owner' AS role, d.online, d.last_seen_at FROM device_bindings b JOIN devices d ON d.sn = b.sn WHERE b.owner_id = $1
       UNION ALL
       SELECT d.sn, d.model, 'member' AS role, d.online, d.last_seen_at FROM device_members m JOIN devices d ON d.sn = m.sn WHERE m.user_id = $1
       ORDER BY sn`,
      [userId],
    )) as Array<{ sn: string; model: string; role: DeviceRole; online: boolean; last_seen_at: Date | null }>;
    return rows.map((row) => ({
      sn: row.sn,
      model: row.model,
      role: row.role,
      online: row.online,
      lastSeenAt: row.last_seen_at ? new Date(row.last_seen_at).toISOString() : null,
    }));
  }

  /** GET /v1/devices/history: newest first. */
  historyOf(userId: string): Promise<HistoryEntry[]> {
    return this.history.of(this.dataSource.manager, userId);
  }

  /** DELETE /v1/devices/:sn by the owner; the device's credentials are untouched. */
  async unbind(userId: string, sn: string, now = new Date()): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.requireOwner(manager, userId, sn, 'unbind it');
      await this.release(manager, sn, 'unbound', now);
    });
  }

  /** The appliance reported a factory reset: whoever owned or shared it loses it. Idempotent. */
  async releaseAfterFactoryReset(sn: string, now = new Date()): Promise<{ released: boolean }> {
    return this.dataSource.transaction(async (manager) => ({ released: await this.release(manager, sn, 'factory_reset', now) }));
  }

  /** POST /v1/devices/:sn/members {phone}: the owner shares with an existing account. */
  async addMember(ownerId: string, sn: string, phone: string, now = new Date()): Promise<MemberView> {
    return this.dataSource.transaction(async (manager) => {
      await this.requireOwner(manager, ownerId, sn, 'share it');
      const [member] = (await manager.query('SELECT id FROM users WHERE phone = $1 AND deleted_at IS NULL', [phone])) as Array<{
        id: string;
      }>;
      if (!member) throw new DomainError('NOT_FOUND', 'No account with this phone');
      if (member.id === ownerId) throw new DomainError('CONFLICT', 'The owner already has the device');
      const inserted = (await manager.query(
        'INSERT INTO device_members (sn, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT (sn, user_id) DO NOTHING RETURNING added_at',
        [sn, member.id, now],
      )) as Array<{ added_at: Date }>;
      if (inserted.length === 1) await this.history.record(manager, { userId: member.id, sn, role: 'member', event: 'shared', at: now });
      const [row] = (await manager.query('SELECT added_at FROM device_members WHERE sn = $1 AND user_id = $2', [sn, member.id])) as Array<{
        added_at: Date;
      }>;
      return { sn, userId: member.id, addedAt: new Date(row.added_at).toISOString() };
    });
  }

  /** GET /v1/devices/:sn/members (owner only). */
  async members(ownerId: string, sn: string): Promise<MemberView[]> {
    await this.requireOwner(this.dataSource.manager, ownerId, sn, 'see who shares it');
    const rows = (await this.dataSource.query('SELECT user_id, added_at FROM device_members WHERE sn = $1 ORDER BY added_at', [
      sn,
    ])) as Array<{
      user_id: string;
      added_at: Date;
    }>;
    return rows.map((row) => ({ sn, userId: row.user_id, addedAt: new Date(row.added_at).toISOString() }));
  }

  /** DELETE /v1/devices/:sn/members/:userId: the owner stops sharing, or a member leaves. */
  async removeMember(actorId: string, sn: string, memberId: string, now = new Date()): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (actorId !== memberId) await this.requireOwner(manager, actorId, sn, 'stop sharing it');
      const removed = (await manager.query('DELETE FROM device_members WHERE sn = $1 AND user_id = $2 RETURNING user_id', [
        sn,
        memberId,
      ])) as [unknown[], number];
      if (removed[1] === 0) throw new DomainError('NOT_FOUND', 'This account is not a member of the device');
      await this.history.record(manager, { userId: memberId, sn, role: 'member', event: 'unshared', at: now });
    });
  }

  private async requireOwner(manager: EntityManager, userId: string, sn: string, what: string): Promise<void> {
    const role = await this.access.roleOf(userId, sn, manager);
    // Someone without access learns nothing about the device, not even that it is bound.
    if (role === null) throw new DomainError('NOT_FOUND', 'No such device among yours');
    if (role !== 'owner') throw new DomainError('FORBIDDEN', `Only the owner may ${what}`);
  }

  /** Deletes the binding (members go with it) and writes how the device left into each person's history. */
  private async release(
    manager: EntityManager,
    sn: string,
    event: Extract<HistoryEvent, 'unbound' | 'factory_reset' | 'owner_left'>,
    now: Date,
  ): Promise<boolean> {
    const members = (await manager.query('SELECT user_id FROM device_members WHERE sn = $1', [sn])) as Array<{ user_id: string }>;
    const deleted = (await manager.query('DELETE FROM device_bindings WHERE sn = $1 RETURNING owner_id', [sn])) as [
      Array<{ owner_id: string }>,
      number,
    ];
    const owner = deleted[0][0]?.owner_id;
    if (!owner) return false;
    if (event !== 'owner_left') await this.history.record(manager, { userId: owner, sn, role: 'owner', event, at: now });
    const memberEvent: HistoryEvent = event === 'factory_reset' ? 'factory_reset' : 'owner_left';
    for (const member of members)
      await this.history.record(manager, { userId: member.user_id, sn, role: 'member', event: memberEvent, at: now });
    return true;
  }
}

async function exportPairings(manager: EntityManager, subjectId: string): Promise<unknown[]> {
  const rows = (await manager.query(
    `SELECT id, sn, status, created_at, expires_at, ended_at, phone_model, os_version, router_mac, hidden_ssid, network_id, wifi_name
       FROM pairings WHERE user_id = $1 ORDER BY created_at`,
    [subjectId],
  )) as Array<Record<string, unknown>>;
  const iso = (value: unknown) => (value ? new Date(value as string).toISOString() : null);
  return rows.map((row) => ({
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
