import { Injectable } from '@nestjs/common';
import { DomainError } from '#libs/platform';
import type { PairingStatus } from './pairing.entity.js';
import { PairingRepository } from './pairing.repository.js';

/** GET /v1/pairings/:id for the account that started it (anyone else: not found). Expiry is a status: a pending pairing past it reads `expired`. */
@Injectable()
export class ReadPairingStatus {
  constructor(private readonly pairings: PairingRepository) {}

  async execute(userId: string, pairingId: string, now = new Date()): Promise<{ status: PairingStatus }> {
    const pairing = await this.pairings.statusOf(pairingId, userId);
    if (!pairing) throw new DomainError('NOT_FOUND', 'No such pairing');
    if (pairing.status === 'pending' && pairing.expiresAt <= now) {
      await this.pairings.markExpired(pairingId);
      return { status: 'expired' };
    }
    return { status: pairing.status };
  }
}
