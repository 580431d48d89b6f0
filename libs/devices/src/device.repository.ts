import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** A registry row ready to insert: only hashes of the secret and the claim code. */
export interface NewDeviceRow {
  sn: string;
  mac: string;
  model: string;
  firmware: string | null;
  secretHash: string;
  claimCodeHash: string;
}

/** What fault ingestion needs of a device: its registry facts and its owner now. */
export interface DeviceFacts {
  sn: string;
  model: string;
  mac: string;
  firmware: string | null;
  ownerId: string | null;
}

/** What pairing needs of a device: its claim code's hash and whom it is bound to. */
export interface PairingFacts {
  claimCodeHash: string;
  binding: { ownerId: string; boundAt: Date } | undefined;
}

const COLUMNS_PER_ROW = 6;

/** devices: the registry of manufactured appliances, their credential hashes and presence. */
@Injectable()
export class DeviceRepository {
  /** Rows one INSERT may carry (PostgreSQL takes at most 65,535 parameters). */
  static readonly maxRowsPerInsert = Math.floor(65535 / COLUMNS_PER_ROW);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts the rows whose SN is new (ON CONFLICT DO NOTHING); answers the SNs that went in. */
  async insertNew(rows: readonly NewDeviceRow[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const params: unknown[] = [];
    const tuples = rows.map((row, index) => {
      params.push(row.sn, row.mac, row.model, row.firmware, row.secretHash, row.claimCodeHash);
      const base = index * COLUMNS_PER_ROW;
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6})`;
    });
    const inserted = (await this.dataSource.query(
      `INSERT INTO devices (sn, mac, model, firmware, secret_hash, claim_code_hash)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (sn) DO NOTHING
       RETURNING sn`,
      params,
    )) as Array<{ sn: string }>;
    return new Set(inserted.map((record) => record.sn));
  }

  /** A new secret hash, and the device active again; false when no device has the SN. */
  async replaceSecret(sn: string, secretHash: string): Promise<boolean> {
    const updated = (await this.dataSource.query(
      `UPDATE devices SET secret_hash = $2, secret_rotated_at = now(), revoked_at = NULL, updated_at = now() WHERE sn = $1 RETURNING sn`,
      [sn, secretHash],
    )) as [Array<{ sn: string }>, number];
    return updated[0].length > 0;
  }

  /** Drops the secret hash; answers when the device was revoked, or undefined when no device has the SN. */
  async revoke(sn: string): Promise<Date | undefined> {
    const updated = (await this.dataSource.query(
      `UPDATE devices SET secret_hash = NULL, revoked_at = COALESCE(revoked_at, now()), updated_at = now() WHERE sn = $1 RETURNING revoked_at`,
      [sn],
    )) as [Array<{ revoked_at: Date }>, number];
    const row = updated[0][0];
    return row ? new Date(row.revoked_at) : undefined;
  }

  /** What pairing needs of a device in one read: its claim code's hash and its binding; undefined when no device has the SN. */
  async forPairing(sn: string, manager: EntityManager = this.dataSource.manager): Promise<PairingFacts | undefined> {
    const [device] = (await manager.query(
      'SELECT d.claim_code_hash, b.owner_id, b.bound_at FROM devices d LEFT JOIN device_bindings b ON b.sn = d.sn WHERE d.sn = $1',
      [sn],
    )) as Array<{ claim_code_hash: string; owner_id: string | null; bound_at: Date | null }>;
    if (!device) return undefined;
    const binding = device.owner_id ? { ownerId: device.owner_id, boundAt: new Date(device.bound_at!) } : undefined;
    return { claimCodeHash: device.claim_code_hash, binding };
  }

  async modelOf(sn: string, manager: EntityManager = this.dataSource.manager): Promise<string | undefined> {
    const [device] = (await manager.query('SELECT model FROM devices WHERE sn = $1', [sn])) as Array<{ model: string }>;
    return device?.model;
  }

  /** Presence as the broker recorded it; undefined when no device has this SN. */
  async presenceOf(
    sn: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<{ model: string; online: boolean; lastSeenAt: Date | null } | undefined> {
    const [device] = (await manager.query('SELECT model, online, last_seen_at FROM devices WHERE sn = $1', [sn])) as Array<{
      model: string;
      online: boolean;
      last_seen_at: Date | null;
    }>;
    return device && { model: device.model, online: device.online, lastSeenAt: device.last_seen_at ? new Date(device.last_seen_at) : null };
  }

  /** Registry facts and current owner of many devices in one query; unknown SNs are absent. */
  async factsOf(sns: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, DeviceFacts>> {
    const rows = (await manager.query(
      `SELECT d.sn, d.model, d.mac, d.firmware, b.owner_id AS "ownerId"
         FROM devices d LEFT JOIN device_bindings b ON b.sn = d.sn
        WHERE d.sn = ANY($1::varchar[])`,
      [[...new Set(sns)]],
    )) as DeviceFacts[];
    return new Map(rows.map((row) => [row.sn, row]));
  }
}
