import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PairingStatus } from './pairing.entity.js';

/** A pairing that may answer a device's token: one of the SN's recent ones. */
export interface PairingCandidate {
  id: string;
  user_id: string;
  token_hash: string;
  status: PairingStatus;
  expires_at: Date;
}

export interface PairingExportRow {
  id: string;
  sn: string | null;
  status: PairingStatus;
  created_at: Date;
  expires_at: Date;
  ended_at: Date;
  phone_model: string | null;
  os_version: string | null;
  router_mac: string | null;
  hidden_ssid: boolean | null;
  network_id: string | null;
  wifi_name: string | null;
}

/** pairings: reads, status changes and deletion. A new pairing is inserted through PersonalDataWriter (it carries network info). */
@Injectable()
export class PairingRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The id of the person's latest pairing of this device that bound it. */
  async lastBoundId(sn: string, userId: string, manager: EntityManager = this.dataSource.manager): Promise<string | null> {
    const [last] = (await manager.query(
      `SELECT id FROM pairings WHERE sn = $1 AND user_id = $2 AND status = 'bound' ORDER BY ended_at DESC LIMIT 1`,
      [sn, userId],
    )) as Array<{ id: string }>;
    return last?.id ?? null;
  }

  async statusOf(pairingId: string, userId: string): Promise<{ status: PairingStatus; expiresAt: Date } | undefined> {
    const [row] = (await this.dataSource.query('SELECT status, expires_at FROM pairings WHERE id = $1 AND user_id = $2', [
      pairingId,
      userId,
    ])) as Array<{ status: PairingStatus; expires_at: Date }>;
    return row ? { status: row.status, expiresAt: new Date(row.expires_at) } : undefined;
  }

  /** A pending pairing past its expiry becomes `expired` (its end stays the expiry time). */
  async markExpired(pairingId: string): Promise<void> {
    await this.dataSource.query(`UPDATE pairings SET status = 'expired' WHERE id = $1 AND status = 'pending'`, [pairingId]);
  }

  /** The SN's pairings that ended after `endedAfter` (or are pending), newest first, locked: confirmations of one appliance go one at a time. */
  async lockCandidates(manager: EntityManager, sn: string, endedAfter: Date): Promise<PairingCandidate[]> {
    return (await manager.query(
      `SELECT id, user_id, token_hash, status, expires_at FROM pairings
        WHERE sn = $1 AND ended_at > $2
        ORDER BY created_at DESC
        FOR UPDATE`,
      [sn, endedAfter],
    )) as PairingCandidate[];
  }

  /**
   * Counts a wrong token against every open pairing of the SN; those reaching
   * `maxWrongTokens` are rejected (and end now). Answers the counted pairings.
   */
  async countWrongToken(
    manager: EntityManager,
    sn: string,
    now: Date,
    maxWrongTokens: number,
  ): Promise<Array<{ id: string; status: PairingStatus; createdAt: Date }>> {
    const counted = (await manager.query(
      `UPDATE pairings
          SET wrong_tokens = wrong_tokens + 1,
              status = CASE WHEN wrong_tokens + 1 >= $3 THEN 'rejected' ELSE status END,
              ended_at = CASE WHEN wrong_tokens + 1 >= $3 THEN $2 ELSE ended_at END
        WHERE sn = $1 AND status = 'pending' AND expires_at > $2
        RETURNING id, status, created_at`,
      [sn, now, maxWrongTokens],
    )) as [Array<{ id: string; status: PairingStatus; created_at: Date }>, number];
    return counted[0].map((row) => ({ id: row.id, status: row.status, createdAt: new Date(row.created_at) }));
  }

  async end(manager: EntityManager, pairingId: string, status: Exclude<PairingStatus, 'pending'>, at: Date): Promise<void> {
    await manager.query('UPDATE pairings SET status = $2, ended_at = $3 WHERE id = $1', [pairingId, status, at]);
  }

  async exportOf(manager: EntityManager, userId: string): Promise<PairingExportRow[]> {
    return (await manager.query(
      `SELECT id, sn, status, created_at, expires_at, ended_at, phone_model, os_version, router_mac, hidden_ssid, network_id, wifi_name
         FROM pairings WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    )) as PairingExportRow[];
  }

  async deleteOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('DELETE FROM pairings WHERE user_id = $1', [userId]);
  }
}
