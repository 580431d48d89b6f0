import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';

/**
 * Checks an image's Ed25519 signature against the maker's public keys
 * (config firmware.signingKeys, checked as Ed25519 at boot).
 */
@Injectable()
export class FirmwareSignatureVerifier {
  private readonly keys: Map<string, KeyObject>;

  constructor(config: AppConfig) {
    this.keys = new Map(config.firmware.signingKeys.map((key) => [key.id, createPublicKey(key.publicKey)]));
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * The id of the key that verifies `signature` (64 bytes) over `image`: only
   * `keyId` when given, else any configured key. Null when none does.
   */
  verifiedBy(image: Buffer, signature: Buffer, keyId?: string): string | null {
    if (signature.length !== 64) return null;
    const candidates = keyId === undefined ? [...this.keys] : this.keys.has(keyId) ? [[keyId, this.keys.get(keyId)!] as const] : [];
    for (const [id, key] of candidates) {
      if (verify(null, image, key, signature)) return id;
    }
    return null;
  }
}

/** Strict base64 (standard alphabet, padded or not); null for anything else. */
export function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}
