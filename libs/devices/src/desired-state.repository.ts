import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PointValue } from './appliance-model.js';
import type { DesiredStatus } from './desired-state.js';

export interface DesiredRequestRow {
  id: string;
  sn: string;
  ownerId: string;
  version: number;
  asked: Record<string, PointValue> | null;
  merged: Record<string, PointValue> | null;
  status: DesiredStatus;
  requestedAt: Date | null;
  requestedBy: string | null;
  requestedByRole: 'owner' | 'member';
  expiresAt: Date;
  settledAt: Date | null;
  rejected: Record<string, string> | null;
}

const COLUMNS = `id, sn, owner_id AS "ownerId", version, asked, merged, status, requested_at AS "requestedAt",
  requested_by AS "requestedBy", requested_by_role AS "requestedByRole", expires_at AS "expiresAt",
  settled_at AS "settledAt", rejected`;

function toRow(raw: DesiredRequestRow): DesiredRequestRow {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return { ...raw, requestedAt: date(raw.requestedAt), expiresAt: new Date(raw.expiresAt), settledAt: date(raw.settledAt) };
}

/**
 * device_desired_versions and device_desired_requests. Every change to a
 * device's desired state (a request, a report settling it, the expiry sweep)
 * first takes the device's version row FOR UPDATE, so they happen one at a
 * time per device, on any number of replicas, and the retained message sent
 * under that lock is always the newest. Requests are inserted through
 * PersonalDataWriter (they are personal data); status changes are here.
 */
@Injectable()
export class DesiredStateRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The device's next desired version; the version row stays locked until the transaction ends. */
  async nextVersion(manager: EntityManager, sn: string): Promise<number> {
    const rows = (await manager.query(
      `INSERT INTO device_desired_versions AS v (sn, version) VALUES ($1, 1)
       ON CONFLICT (sn) DO UPDATE SET version = v.version + 1 RETURNING version`,
      [sn],
    )) as Array<{ version: number }>;
    return rows[0].version;
  }

  /**
   * Locks the device's version row; false when the device never had a control request.
   * A device's first request inserts that row, which a SELECT ... FOR UPDATE does not see
   * (nor wait for) until it commits: when the row is missing, inserting it waits for such a
   * transaction on the unique key. A conflict means the row now exists, locked by the SELECT
   * that follows; otherwise this transaction holds the new row (version 0, no request yet).
   */
  async lockDevice(manager: EntityManager, sn: string): Promise<boolean> {
    const lock = async () =>
      ((await manager.query('SELECT sn FROM device_desired_versions WHERE sn = $1 FOR UPDATE', [sn])) as unknown[]).length > 0;
    if (await lock()) return true;
    const inserted = (await manager.query(
      'INSERT INTO device_desired_versions (sn, version) VALUES ($1, 0) ON CONFLICT (sn) DO NOTHING RETURNING sn',
      [sn],
    )) as unknown[];
    return inserted.length === 0 && (await lock());
  }

  /** The newest request of the device held for this owner (its current desired state), if any. */
  async latest(sn: string, ownerId: string, manager: EntityManager = this.dataSource.manager): Promise<DesiredRequestRow | undefined> {
    const rows = (await manager.query(
      `SELECT ${COLUMNS} FROM device_desired_requests WHERE sn = $1 AND owner_id = $2 ORDER BY version DESC LIMIT 1`,
      [sn, ownerId],
    )) as DesiredRequestRow[];
    return rows[0] && toRow(rows[0]);
  }

  /** The newest pending request of the device, whoever it is held for. */
  async newestPending(manager: EntityManager, sn: string): Promise<DesiredRequestRow | undefined> {
    const rows = (await manager.query(
      `SELECT ${COLUMNS} FROM device_desired_requests WHERE sn = $1 AND status = 'pending' ORDER BY version DESC LIMIT 1`,
      [sn],
    )) as DesiredRequestRow[];
    return rows[0] && toRow(rows[0]);
  }

  /** Requests still pending wait as long as the newest one that merged them. */
  async extendPending(manager: EntityManager, sn: string, expiresAt: Date): Promise<void> {
    await manager.query(`UPDATE device_desired_requests SET expires_at = $2 WHERE sn = $1 AND status = 'pending'`, [sn, expiresAt]);
  }

  /** Settles the pending requests of the device up to `upTo` (the newest pending when 'newest'); answers how many. */
  async settle(
    manager: EntityManager,
    sn: string,
    upTo: number | 'newest',
    status: 'applied' | 'rejected',
    at: Date,
    rejected: Record<string, string> | null = null,
  ): Promise<number> {
    const rows = (await manager.query(
      `UPDATE device_desired_requests SET status = $3, settled_at = $4, rejected = $5::jsonb
        WHERE sn = $1 AND status = 'pending' AND ($2::integer IS NULL OR version <= $2::integer)
        RETURNING version`,
      [sn, upTo === 'newest' ? null : upTo, status, at, rejected === null ? null : JSON.stringify(rejected)],
    )) as [unknown[], number] | unknown[];
    return Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : rows.length;
  }

  /**
   * Devices with a pending request past its deadline, their version rows
   * locked for this transaction; rows another replica holds are skipped
   * (SKIP LOCKED), so each device is swept by one replica at a time.
   */
  async lockExpiredDevices(manager: EntityManager, now: Date, limit: number): Promise<string[]> {
    const rows = (await manager.query(
      `SELECT v.sn FROM device_desired_versions v
        WHERE EXISTS (SELECT 1 FROM device_desired_requests r WHERE r.sn = v.sn AND r.status = 'pending' AND r.expires_at <= $1)
        ORDER BY v.sn LIMIT $2 FOR UPDATE OF v SKIP LOCKED`,
      [now, limit],
    )) as Array<{ sn: string }>;
    return rows.map((row) => row.sn);
  }

  /** Marks the pending requests of these devices past their deadline expired. */
  async expire(manager: EntityManager, sns: readonly string[], now: Date): Promise<number> {
    const result = (await manager.query(
      `UPDATE device_desired_requests SET status = 'expired', settled_at = $2
        WHERE sn = ANY($1::varchar[]) AND status = 'pending' AND expires_at <= $2`,
      [[...sns], now],
    )) as [unknown[], number];
    return result[1];
  }

  /** The device's requests held for this owner, newest first. */
  async history(
    sn: string,
    ownerId: string,
    limit: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<DesiredRequestRow[]> {
    const rows = (await manager.query(
      `SELECT ${COLUMNS} FROM device_desired_requests WHERE sn = $1 AND owner_id = $2 ORDER BY version DESC LIMIT $3`,
      [sn, ownerId, limit],
    )) as DesiredRequestRow[];
    return rows.map(toRow);
  }

  /** Every request held for this person (the export), by device then version. */
  async ofOwner(manager: EntityManager, ownerId: string): Promise<DesiredRequestRow[]> {
    const rows = (await manager.query(`SELECT ${COLUMNS} FROM device_desired_requests WHERE owner_id = $1 ORDER BY sn, version`, [
      ownerId,
    ])) as DesiredRequestRow[];
    return rows.map(toRow);
  }

  /** The device left its owner: its state history goes. Answers whether anything was pending. */
  async deleteOfDevice(manager: EntityManager, sn: string): Promise<boolean> {
    const rows = (await manager.query(`DELETE FROM device_desired_requests WHERE sn = $1 RETURNING status`, [sn])) as
      [Array<{ status: string }>, number] | Array<{ status: string }>;
    const deleted = (Array.isArray(rows[0]) ? rows[0] : rows) as Array<{ status: string }>;
    return deleted.some((row) => row.status === 'pending');
  }

  async deleteOfOwner(manager: EntityManager, ownerId: string): Promise<void> {
    await manager.query('DELETE FROM device_desired_requests WHERE owner_id = $1', [ownerId]);
  }

  /** An erased member's requests on others' devices stay in the owner's history, without saying who asked. */
  async forgetRequester(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('UPDATE device_desired_requests SET requested_by = NULL WHERE requested_by = $1', [userId]);
  }
}
