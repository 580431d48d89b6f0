import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import { PersonalDataWriter } from '#libs/privacy';
import { CredentialHasher } from './credentials.js';
import { DeviceHistory } from './device-history.js';
import { normaliseMac } from './device-rows.js';
import { PairingEntity, type PairingStatus } from './pairing.entity.js';
import { parseQrPayload } from './qr.js';

export interface NetworkInfo {
  phoneModel?: string;
  osVersion?: string;
  routerMac?: string;
  hiddenSsid?: boolean;
  networkId?: string;
  wifiName?: string;
}

export interface StartPairingInput {
  qr?: string;
  sn?: string;
  network?: NetworkInfo;
}

/** A new pairing: the app carries `token` to the appliance, which confirms it over MQTT. */
export interface StartedPairing {
  kind: 'started';
  pairingId: string;
  sn: string;
  token: string;
  expiresAt: string;
}

/** The caller already owns the device: nothing to pair, no second binding. */
export interface AlreadyYours {
  kind: 'already_yours';
  pairingId: string | null;
  sn: string;
  status: 'bound';
  boundAt: string;
}

/** What the appliance is told on devices/<sn>/pairing/result. `pairingId` is null when no pairing of this device was open. */
export interface ConfirmOutcome {
  pairingId: string | null;
  status: PairingStatus;
}

/** Replays of a used token are answered with its pairing's status for this long after the pairing ended. */
const REPLAY_WINDOW_HOURS = 24;

/**
 * Pairing use-cases: an account asks to pair (QR or SN), the appliance
 * confirms the token over its own authenticated MQTT connection, and only then
 * is the device bound. One owner per device is the primary key of
 * device_bindings, so concurrent confirmations cannot bind twice.
 */
@Injectable()
export class PairingService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly hasher: CredentialHasher,
    private readonly writer: PersonalDataWriter,
    private readonly history: DeviceHistory,
  ) {}

  async start(userId: string, input: StartPairingInput, now = new Date()): Promise<StartedPairing | AlreadyYours> {
    if ((input.qr === undefined) === (input.sn === undefined))
      throw new DomainError('VALIDATION_FAILED', 'Give either qr (the scanned label) or sn, not both');
    let sn: string;
    let claimCode: string | undefined;
    if (input.qr !== undefined) {
      const label = parseQrPayload(input.qr);
      if (!label) throw new DomainError('VALIDATION_FAILED', 'qr is not an appliance label (expected APL1:<SN>:<claim code>)');
      ({ sn, claimCode } = label);
      await this.refuseWhenLockedOut(userId, now);
    } else {
      sn = input.sn!;
    }
    const [device] = (await this.dataSource.query('SELECT claim_code_hash FROM devices WHERE sn = $1', [sn])) as Array<{
      claim_code_hash: string;
    }>;
    if (!device) throw new DomainError('NOT_FOUND', 'No appliance with this SN');
    if (claimCode !== undefined && !this.hasher.matches(claimCode, device.claim_code_hash)) {
      await this.dataSource.query('INSERT INTO pairing_claim_failures (user_id, failed_at) VALUES ($1, $2)', [userId, now]);
      throw new DomainError('FORBIDDEN', 'The claim code of this label does not match the appliance');
    }

    const [binding] = (await this.dataSource.query('SELECT owner_id, bound_at FROM device_bindings WHERE sn = $1', [sn])) as Array<{
      owner_id: string;
      bound_at: Date;
    }>;
    if (binding && binding.owner_id !== userId) throw new DomainError('DEVICE_ALREADY_BOUND', 'This appliance belongs to another account');
    if (binding) {
      const [last] = (await this.dataSource.query(
        `SELECT id FROM pairings WHERE sn = $1 AND user_id = $2 AND status = 'bound' ORDER BY ended_at DESC LIMIT 1`,
        [sn, userId],
      )) as Array<{ id: string }>;
      return { kind: 'already_yours', pairingId: last?.id ?? null, sn, status: 'bound', boundAt: new Date(binding.bound_at).toISOString() };
    }

    // 256 random bits; only its keyed hash is stored.
    const token = randomBytes(32).toString('base64url');
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + this.config.pairing.tokenTtlSeconds * 1000);
    const network = input.network ?? {};
    await this.writer.insert(PairingEntity, userId, {
      id,
      sn,
      tokenHash: this.hasher.hash(token),
      status: 'pending',
      createdAt: now,
      expiresAt,
      // Until it ends, a pairing "ends" when it expires: retention counts from here.
      endedAt: expiresAt,
      phoneModel: network.phoneModel ?? null,
      osVersion: network.osVersion ?? null,
      routerMac: network.routerMac ? normaliseMac(network.routerMac) : null,
      hiddenSsid: network.hiddenSsid ?? null,
      networkId: network.networkId ?? null,
      wifiName: network.wifiName ?? null,
    });
    return { kind: 'started', pairingId: id, sn, token, expiresAt: expiresAt.toISOString() };
  }

  /** GET /v1/pairings/:id for the account that created it (anyone else: not found). */
  async statusOf(userId: string, pairingId: string, now = new Date()): Promise<{ status: PairingStatus }> {
    const [pairing] = (await this.dataSource.query('SELECT status, expires_at FROM pairings WHERE id = $1 AND user_id = $2', [
      pairingId,
      userId,
    ])) as Array<{
      status: PairingStatus;
      expires_at: Date;
    }>;
    if (!pairing) throw new DomainError('NOT_FOUND', 'No such pairing');
    if (pairing.status === 'pending' && new Date(pairing.expires_at) <= now) {
      await this.dataSource.query(`UPDATE pairings SET status = 'expired' WHERE id = $1 AND status = 'pending'`, [pairingId]);
      return { status: 'expired' };
    }
    return { status: pairing.status };
  }

  /**
   * The appliance `sn` presented `token` on its own topic. Only pairings of
   * this SN are candidates, so a token of another device's pairing is just a
   * wrong token here. A wrong token counts against every open pairing of the
   * SN and rejects them at `pairing.maxWrongTokens`.
   */
  async confirm(sn: string, token: string, now = new Date()): Promise<ConfirmOutcome> {
    return this.dataSource.transaction(async (manager) => {
      // Locking the device's recent pairings serialises confirmations of one appliance.
      const candidates = (await manager.query(
        `SELECT id, user_id, token_hash, status, expires_at FROM pairings
          WHERE sn = $1 AND ended_at > $2
          ORDER BY created_at DESC
          FOR UPDATE`,
        [sn, new Date(now.getTime() - REPLAY_WINDOW_HOURS * 3600_000)],
      )) as Array<{ id: string; user_id: string; token_hash: string; status: PairingStatus; expires_at: Date }>;
      // Every candidate is compared (constant time each), whichever matches.
      const matching = candidates.filter((candidate) => this.hasher.matches(token, candidate.token_hash));
      const pairing = matching[0];
      if (!pairing) return this.countWrongToken(manager, sn, now);
      // Single use: a used token binds nothing again; its replay (e.g. a redelivered message) gets the same answer.
      if (pairing.status !== 'pending') return { pairingId: pairing.id, status: pairing.status };
      if (new Date(pairing.expires_at) <= now) return this.end(manager, pairing.id, 'expired', now);

      const inserted = (await manager.query(
        `INSERT INTO device_bindings (sn, owner_id, bound_at) VALUES ($1, $2, $3) ON CONFLICT (sn) DO NOTHING RETURNING owner_id`,
        [sn, pairing.user_id, now],
      )) as Array<{ owner_id: string }>;
      if (inserted.length === 1) {
        await this.history.record(manager, { userId: pairing.user_id, sn, role: 'owner', event: 'bound', at: now });
        return this.end(manager, pairing.id, 'bound', now);
      }
      const [owner] = (await manager.query('SELECT owner_id FROM device_bindings WHERE sn = $1', [sn])) as Array<{ owner_id: string }>;
      // Already this account's device (bound by an earlier pairing): no second binding.
      return this.end(manager, pairing.id, owner?.owner_id === pairing.user_id ? 'bound' : 'rejected', now);
    });
  }

  private async countWrongToken(manager: EntityManager, sn: string, now: Date): Promise<ConfirmOutcome> {
    const counted = (await manager.query(
      `UPDATE pairings
          SET wrong_tokens = wrong_tokens + 1,
              status = CASE WHEN wrong_tokens + 1 >= $3 THEN 'rejected' ELSE status END,
              ended_at = CASE WHEN wrong_tokens + 1 >= $3 THEN $2 ELSE ended_at END
        WHERE sn = $1 AND status = 'pending' AND expires_at > $2
        RETURNING id, status, created_at`,
      [sn, now, this.config.pairing.maxWrongTokens],
    )) as [Array<{ id: string; status: PairingStatus; created_at: Date }>, number];
    const newest = counted[0].sort((a, b) => new Date(b.created_at).getTime() - new Date(a.created_at).getTime())[0];
    return newest ? { pairingId: newest.id, status: newest.status } : { pairingId: null, status: 'rejected' };
  }

  private async end(
    manager: EntityManager,
    pairingId: string,
    status: Exclude<PairingStatus, 'pending'>,
    now: Date,
  ): Promise<ConfirmOutcome> {
    await manager.query('UPDATE pairings SET status = $2, ended_at = $3 WHERE id = $1', [pairingId, status, now]);
    return { pairingId, status };
  }

  private async refuseWhenLockedOut(userId: string, now: Date): Promise<void> {
    const hourAgo = new Date(now.getTime() - 3600_000);
    await this.dataSource.query('DELETE FROM pairing_claim_failures WHERE user_id = $1 AND failed_at < $2', [userId, hourAgo]);
    const [{ count }] = (await this.dataSource.query(
      'SELECT count(*)::int AS count FROM pairing_claim_failures WHERE user_id = $1 AND failed_at >= $2',
      [userId, hourAgo],
    )) as Array<{ count: number }>;
    if (count >= this.config.pairing.claimFailuresPerHour) {
      throw new DomainError('TOO_MANY_REQUESTS', 'Too many wrong claim codes from this account; try again in an hour');
    }
  }
}
