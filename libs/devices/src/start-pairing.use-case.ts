import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import { PersonalDataWriter } from '#libs/privacy';
import { ClaimCodeLockout } from './claim-code-lockout.js';
import { CredentialHasher } from './credentials.js';
import { DeviceRepository, type PairingFacts } from './device.repository.js';
import { normaliseMac } from './device-rows.js';
import { PairingEntity } from './pairing.entity.js';
import { PairingRepository } from './pairing.repository.js';
import { parseQrPayload } from './qr.js';

export interface NetworkInfo {
  phoneModel?: string;
  osVersion?: string;
  routerMac?: string;
  hiddenSsid?: boolean;
  networkId?: string;
  wifiName?: string;
}

/** Exactly one of a scanned label (`qr`) or a typed SN; StartPairingDto says so to the HTTP client. */
export type StartPairingInput = ({ qr: string; sn?: undefined } | { sn: string; qr?: undefined }) & { network?: NetworkInfo };

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

type Verdict = { kind: 'device'; device: PairingFacts | undefined } | { kind: 'refused'; error: DomainError };

/**
 * POST /v1/pairings: an account asks to pair an appliance by its label (QR:
 * SN and claim code) or its typed SN. A label is checked against the claim
 * code under the account's claim-code lockout; a device another account owns
 * is refused; the caller's own device is answered as bound. Otherwise a
 * pairing is opened with a one-time token and the phone's network info,
 * which the writer keeps only under a live `network_setup`. Nothing is bound
 * here: the appliance must confirm the token (ConfirmPairing).
 */
@Injectable()
export class StartPairing {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly hasher: CredentialHasher,
    private readonly writer: PersonalDataWriter,
    private readonly lockout: ClaimCodeLockout,
    private readonly devices: DeviceRepository,
    private readonly pairings: PairingRepository,
  ) {}

  async execute(userId: string, input: StartPairingInput, now = new Date()): Promise<StartedPairing | AlreadyYours> {
    let sn: string;
    let claimCode: string | undefined;
    if (input.qr !== undefined) {
      const label = parseQrPayload(input.qr);
      if (!label) throw new DomainError('VALIDATION_FAILED', 'qr is not an appliance label (expected APL1:<SN>:<claim code>)');
      ({ sn, claimCode } = label);
    } else {
      sn = input.sn;
    }
    const device = claimCode === undefined ? await this.devices.forPairing(sn) : await this.claim(userId, sn, claimCode, now);
    if (!device) throw new DomainError('NOT_FOUND', 'No appliance with this SN');
    const { binding } = device;
    if (binding && binding.ownerId !== userId) throw new DomainError('DEVICE_ALREADY_BOUND', 'This appliance belongs to another account');
    if (binding) {
      const pairingId = await this.pairings.lastBoundId(sn, userId);
      return { kind: 'already_yours', pairingId, sn, status: 'bound', boundAt: binding.boundAt.toISOString() };
    }
    return this.open(userId, sn, input.network ?? {}, now);
  }

  /**
   * A label's claim code against the device, under the lockout: the check
   * and the failure it may record are one transaction holding the account's
   * lock, and nothing else is (so one account's pairings do not queue on it).
   */
  private async claim(userId: string, sn: string, claimCode: string, now: Date): Promise<PairingFacts | undefined> {
    const verdict = await this.dataSource.transaction(async (manager): Promise<Verdict> => {
      if (await this.lockout.isLockedOut(manager, userId, now)) {
        return {
          kind: 'refused',
          error: new DomainError('TOO_MANY_REQUESTS', 'Too many wrong claim codes from this account; try again in an hour'),
        };
      }
      const device = await this.devices.forPairing(sn, manager);
      if (device && !this.hasher.matches(claimCode, device.claimCodeHash)) {
        await this.lockout.recordFailure(manager, userId, now);
        return { kind: 'refused', error: new DomainError('FORBIDDEN', 'The claim code of this label does not match the appliance') };
      }
      return { kind: 'device', device };
    });
    if (verdict.kind === 'refused') throw verdict.error;
    return verdict.device;
  }

  private async open(userId: string, sn: string, network: NetworkInfo, now: Date): Promise<StartedPairing> {
    // 256 random bits; only its keyed hash is stored.
    const token = randomBytes(32).toString('base64url');
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + this.config.pairing.tokenTtlSeconds * 1000);
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
}
