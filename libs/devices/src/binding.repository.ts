import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export type DeviceRole = 'owner' | 'member';

export interface OwnedOrSharedRow {
  sn: string;
  model: string;
  role: DeviceRole;
  online: boolean;
  last_seen_at: Date | null;
}

/** device_bindings (the one owner of a device) and device_members (who the owner shares it with). */
@Injectable()
export class BindingRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async ownerOf(sn: string, manager: EntityManager = this.dataSource.manager): Promise<string | null> {
    return (await this.bindingOf(sn, manager))?.ownerId ?? null;
  }

  async bindingOf(sn: string, manager: EntityManager = this.dataSource.manager): Promise<{ ownerId: string; boundAt: Date } | undefined> {
    const [row] = (await manager.query('SELECT owner_id, bound_at FROM device_bindings WHERE sn = $1', [sn])) as Array<{
      owner_id: string;
      bound_at: Date;
    }>;
    return row ? { ownerId: row.owner_id, boundAt: new Date(row.bound_at) } : undefined;
  }

  /**
   * The owners of these devices, their bindings locked against release (FOR
   * SHARE) for the rest of the transaction: what is written for an owner
   * cannot outlive the binding, since a release waits for this transaction
   * and then deletes what it wrote. Unbound SNs are absent.
   */
  async lockOwnersShared(manager: EntityManager, sns: readonly string[]): Promise<Map<string, string>> {
    const rows = (await manager.query('SELECT sn, owner_id FROM device_bindings WHERE sn = ANY($1::varchar[]) ORDER BY sn FOR SHARE', [
      [...new Set(sns)],
    ])) as Array<{ sn: string; owner_id: string }>;
    return new Map(rows.map((row) => [row.sn, row.owner_id]));
  }

  /** 'owner', 'member', or null when the user has no access to the device. */
  async roleOf(userId: string, sn: string, manager: EntityManager = this.dataSource.manager): Promise<DeviceRole | null> {
    const rows = (await manager.query(
      `SELECT CASE WHEN b.owner_id = $1 THEN 'owner' ELSE 'member' END AS role
         FROM device_bindings b
        WHERE b.sn = $2 AND (b.owner_id = $1 OR EXISTS (SELECT 1 FROM device_members m WHERE m.sn = b.sn AND m.user_id = $1))`,
      [userId, sn],
    )) as Array<{ role: DeviceRole }>;
    return rows[0]?.role ?? null;
  }

  /** Binds the device unless it has an owner (the primary key on sn decides); true when this call bound it. */
  async bindIfFree(manager: EntityManager, sn: string, ownerId: string, at: Date): Promise<boolean> {
    const inserted = (await manager.query(
      `INSERT INTO device_bindings (sn, owner_id, bound_at) VALUES ($1, $2, $3) ON CONFLICT (sn) DO NOTHING RETURNING owner_id`,
      [sn, ownerId, at],
    )) as unknown[];
    return inserted.length === 1;
  }

  /** Deletes the binding; answers the owner it had, or undefined when the device was not bound. */
  async unbind(manager: EntityManager, sn: string): Promise<string | undefined> {
    const deleted = (await manager.query('DELETE FROM device_bindings WHERE sn = $1 RETURNING owner_id', [sn])) as [
      Array<{ owner_id: string }>,
      number,
    ];
    return deleted[0][0]?.owner_id;
  }

  /** The SNs this person owns, locked for the rest of the transaction. */
  async lockOwnedBy(manager: EntityManager, ownerId: string): Promise<string[]> {
    const rows = (await manager.query('SELECT sn FROM device_bindings WHERE owner_id = $1 FOR UPDATE', [ownerId])) as Array<{ sn: string }>;
    return rows.map((row) => row.sn);
  }

  /** Devices the person owns or shares, with presence, by SN. */
  async devicesOf(userId: string, manager: EntityManager = this.dataSource.manager): Promise<OwnedOrSharedRow[]> {
    return (await manager.query(
      `SELECT d.sn, d.model, 'owner' AS role, d.online, d.last_seen_at FROM device_bindings b JOIN devices d ON d.sn = b.sn WHERE b.owner_id = $1
       UNION ALL
       SELECT d.sn, d.model, 'member' AS role, d.online, d.last_seen_at FROM device_members m JOIN devices d ON d.sn = m.sn WHERE m.user_id = $1
       ORDER BY sn`,
      [userId],
    )) as OwnedOrSharedRow[];
  }

  async membersOf(sn: string, manager: EntityManager = this.dataSource.manager): Promise<Array<{ userId: string; addedAt: Date }>> {
    const rows = (await manager.query('SELECT user_id, added_at FROM device_members WHERE sn = $1 ORDER BY added_at', [sn])) as Array<{
      user_id: string;
      added_at: Date;
    }>;
    return rows.map((row) => ({ userId: row.user_id, addedAt: new Date(row.added_at) }));
  }

  /** Adds a member unless they are one; answers whether this call added them and since when they are a member. */
  async addMember(manager: EntityManager, sn: string, userId: string, at: Date): Promise<{ added: boolean; addedAt: Date }> {
    const inserted = (await manager.query(
      'INSERT INTO device_members (sn, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT (sn, user_id) DO NOTHING RETURNING added_at',
      [sn, userId, at],
    )) as Array<{ added_at: Date }>;
    if (inserted.length === 1) return { added: true, addedAt: new Date(inserted[0].added_at) };
    const [row] = (await manager.query('SELECT added_at FROM device_members WHERE sn = $1 AND user_id = $2', [sn, userId])) as Array<{
      added_at: Date;
    }>;
    return { added: false, addedAt: new Date(row.added_at) };
  }

  async removeMember(manager: EntityManager, sn: string, userId: string): Promise<boolean> {
    const removed = (await manager.query('DELETE FROM device_members WHERE sn = $1 AND user_id = $2 RETURNING user_id', [sn, userId])) as [
      unknown[],
      number,
    ];
    return removed[1] > 0;
  }

  async deleteMembershipsOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('DELETE FROM device_members WHERE user_id = $1', [userId]);
  }
}
