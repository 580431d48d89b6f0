import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Keyed hash for low-entropy values (codes, phones, IPs): without the key they cannot be brute-forced offline. */
export function keyedHash(key: string, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex');
}

/** Plain SHA-256 is enough for random 256-bit tokens: there is nothing to guess. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
