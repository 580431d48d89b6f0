import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '#libs/platform';
import { CredentialChangeNotifier } from './credential-change.notifier.js';
import { CredentialHasher, generateClaimCode, generateDeviceSecret } from './credentials.js';
import type { DeviceRow } from './device-rows.js';
import { DeviceRepository } from './device.repository.js';
import { formatQrPayload } from './qr.js';

export interface IssuedDevice {
  sn: string;
  mac: string;
  model: string;
  deviceSecret: string;
  qr: string;
}

export interface RegistrationResult {
  /** Newly registered devices with their secrets: the only time they are ever shown. */
  issued: IssuedDevice[];
  /** SNs that were already in the registry, left untouched. */
  alreadyRegistered: string[];
  /** SNs that appeared more than once in this batch; the first occurrence counts. */
  duplicatesInBatch: string[];
}

export interface RegisterOptions {
  /** Rows per INSERT statement. */
  chunkSize?: number;
  /** Called after each chunk, e.g. to draw a progress bar or stream labels out. */
  onChunk?(done: number, total: number, issued: IssuedDevice[]): void | Promise<void>;
}

/** The device registry's use-cases: register a factory batch, rotate a secret, revoke. */
@Injectable()
export class DeviceRegistry {
  private readonly devices: DeviceRepository;

  constructor(
    dataSource: DataSource,
    private readonly hasher: CredentialHasher,
    private readonly notifier: CredentialChangeNotifier,
  ) {
    // Built here rather than injected: the import CLI and the benches construct the registry by hand.
    this.devices = new DeviceRepository(dataSource);
  }

  /**
   * Inserts in chunks with ON CONFLICT DO NOTHING: an SN already registered is
   * reported, never overwritten, and a re-run of the same file is harmless.
   */
  async register(rows: DeviceRow[], options: RegisterOptions = {}): Promise<RegistrationResult> {
    const chunkSize = Math.min(options.chunkSize ?? 1000, DeviceRepository.maxRowsPerInsert);
    const seen = new Set<string>();
    const duplicatesInBatch: string[] = [];
    const unique = rows.filter((row) => {
      if (seen.has(row.sn)) {
        duplicatesInBatch.push(row.sn);
        return false;
      }
      seen.add(row.sn);
      return true;
    });
    const issued: IssuedDevice[] = [];
    const alreadyRegistered: string[] = [];
    for (let start = 0; start < unique.length; start += chunkSize) {
      const chunk = unique.slice(start, start + chunkSize);
      const prepared = chunk.map((row) => {
        const deviceSecret = generateDeviceSecret();
        const claimCode = generateClaimCode();
        return { row, deviceSecret, claimCode, secretHash: this.hasher.hash(deviceSecret), claimCodeHash: this.hasher.hash(claimCode) };
      });
      const insertedSns = await this.devices.insertNew(
        prepared.map(({ row, secretHash, claimCodeHash }) => ({ ...row, secretHash, claimCodeHash })),
      );
      const chunkIssued: IssuedDevice[] = [];
      for (const { row, deviceSecret, claimCode } of prepared) {
        if (insertedSns.has(row.sn)) {
          chunkIssued.push({ sn: row.sn, mac: row.mac, model: row.model, deviceSecret, qr: formatQrPayload(row.sn, claimCode) });
        } else {
          alreadyRegistered.push(row.sn);
        }
      }
      issued.push(...chunkIssued);
      await options.onChunk?.(Math.min(start + chunk.length, unique.length), unique.length, chunkIssued);
    }
    return { issued, alreadyRegistered, duplicatesInBatch };
  }

  /** Issues a new secret (shown once); the old one stops working on every broker node. Re-activates a revoked device. */
  async rotateSecret(sn: string): Promise<{ sn: string; deviceSecret: string }> {
    const deviceSecret = generateDeviceSecret();
    if (!(await this.devices.replaceSecret(sn, this.hasher.hash(deviceSecret))))
      throw new DomainError('NOT_FOUND', 'No device with this SN');
    await this.tellBrokers(sn, 'rotated');
    return { sn, deviceSecret };
  }

  /** The device can no longer connect; an open connection is dropped. Rotating the secret later re-activates it. */
  async revoke(sn: string): Promise<{ sn: string; revokedAt: string }> {
    const revokedAt = await this.devices.revoke(sn);
    if (!revokedAt) throw new DomainError('NOT_FOUND', 'No device with this SN');
    await this.tellBrokers(sn, 'revoked');
    return { sn, revokedAt: revokedAt.toISOString() };
  }

  private async tellBrokers(sn: string, change: 'rotated' | 'revoked'): Promise<void> {
    try {
      await this.notifier.notify({ sn, change });
    } catch {
      throw new DomainError(
        'UNAVAILABLE',
        `The change is saved, but the broker could not be told yet; retry to drop cached credentials now (they expire by themselves)`,
      );
    }
  }
}
