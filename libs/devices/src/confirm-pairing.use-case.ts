import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { BindingRepository } from './binding.repository.js';
import { CredentialHasher } from './credentials.js';
import { DeviceHistory } from './device-history.js';
import type { PairingStatus } from './pairing.entity.js';
import { PairingRepository } from './pairing.repository.js';

/** What the appliance is told on devices/<sn>/pairing/result. `pairingId` is null when no pairing of this device was open. */
export interface ConfirmOutcome {
  pairingId: string | null;
  status: PairingStatus;
}

/** Replays of a used token are answered with its pairing's status for this long after the pairing ended. */
const REPLAY_WINDOW_HOURS = 24;

/**
 * The appliance `sn` presented `token` on its own topic (its MQTT connection
 * is authenticated as that SN). Only pairings of this SN are candidates, so a
 * token of another device's pairing is just a wrong token here. A wrong token
 * counts against every open pairing of the SN and rejects them at
 * `pairing.maxWrongTokens`. The right token binds the device to the account
 * that started the pairing, unless another account owns it by now: one owner
 * per device is the primary key of device_bindings, so concurrent
 * confirmations cannot bind twice. The SN's recent pairings are locked for
 * the transaction, so confirmations of one appliance go one at a time.
 */
@Injectable()
export class ConfirmPairing {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly hasher: CredentialHasher,
    private readonly history: DeviceHistory,
    private readonly pairings: PairingRepository,
    private readonly bindings: BindingRepository,
  ) {}

  async execute(sn: string, token: string, now = new Date()): Promise<ConfirmOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const candidates = await this.pairings.lockCandidates(manager, sn, new Date(now.getTime() - REPLAY_WINDOW_HOURS * 3600_000));
      // Every candidate is compared (constant time each), whichever matches.
      const matching = candidates.filter((candidate) => this.hasher.matches(token, candidate.token_hash));
      const pairing = matching[0];
      if (!pairing) return this.countWrongToken(manager, sn, now);
      // Single use: a used token binds nothing again; its replay (e.g. a redelivered message) gets the same answer.
      if (pairing.status !== 'pending') return { pairingId: pairing.id, status: pairing.status };
      if (new Date(pairing.expires_at) <= now) return this.end(manager, pairing.id, 'expired', now);
      if (await this.bindings.bindIfFree(manager, sn, pairing.user_id, now)) {
        await this.history.record(manager, { userId: pairing.user_id, sn, role: 'owner', event: 'bound', at: now });
        return this.end(manager, pairing.id, 'bound', now);
      }
      // Already this account's device (bound by an earlier pairing): no second binding.
      const owner = await this.bindings.ownerOf(sn, manager);
      return this.end(manager, pairing.id, owner === pairing.user_id ? 'bound' : 'rejected', now);
    });
  }

  private async countWrongToken(manager: EntityManager, sn: string, now: Date): Promise<ConfirmOutcome> {
    const counted = await this.pairings.countWrongToken(manager, sn, now, this.config.pairing.maxWrongTokens);
    const newest = counted.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    return newest ? { pairingId: newest.id, status: newest.status } : { pairingId: null, status: 'rejected' };
  }

  private async end(
    manager: EntityManager,
    pairingId: string,
    status: Exclude<PairingStatus, 'pending'>,
    now: Date,
  ): Promise<ConfirmOutcome> {
    await this.pairings.end(manager, pairingId, status, now);
    return { pairingId, status };
  }
}
