import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, base64url (43 characters): the device's MQTT password. */
export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * 100 random bits as 20 Crockford base32 characters: printed in the QR label,
 * uppercase so the QR can use its denser alphanumeric mode, no I/L/O/U to
 * misread when typed.
 */
export function generateClaimCode(): string {
  const bytes = randomBytes(20);
  let out = '';
  for (const byte of bytes) out += CROCKFORD[byte & 31];
  return out;
}

/**
 * Hashes device secrets and claim codes with HMAC-SHA256 under a server key.
 *
 * Why not bcrypt/scrypt: those are slow on purpose so that a *guessable*
 * password costs an attacker a lot per guess. These secrets are 256 (claim
 * codes 100) random bits: nothing to guess, so slowness buys no security, while
 * it would cost the broker dearly, because after a power cut ten thousand
 * devices reconnect at once and each CONNECT is one verification (bcrypt at
 * ~50 ms each would be minutes of CPU on one core). The server key means a
 * stolen table alone does not even allow checking a candidate secret.
 */
export class CredentialHasher {
  constructor(private readonly key: string) {}

  hash(value: string | Buffer): string {
    return createHmac('sha256', this.key).update(value).digest('hex');
  }

  /** Constant-time comparison of a presented value against a stored hash. */
  matches(value: string | Buffer, storedHash: string | null | undefined): boolean {
    if (!storedHash || storedHash.length !== 64) return false;
    const presented = createHmac('sha256', this.key).update(value).digest();
    return timingSafeEqual(presented, Buffer.from(storedHash, 'hex'));
  }
}
