import { createHmac } from 'node:crypto';
import type { Bucket } from './time-buckets.js';

/** A bound on the remembered keys (a few per device: its current hours and days). */
const KEYS_REMEMBERED = 200_000;

/**
 * The maker's statistics count distinct devices per bucket without keeping
 * which devices: while a bucket can still receive readings it holds one key
 * per contributing device, HMAC-SHA256 (under the deployment's device-secret
 * key, with its own label) of the bucket and the SN, cut to 16 bytes. Keys of
 * one device differ from bucket to bucket, so they link nothing across
 * buckets, and without the key they cannot be recomputed from an SN; they
 * are deleted when the bucket closes, and a withdrawal deletes the person's.
 */
export class ContributorKeys {
  /** Keys of the current buckets, remembered: every batch of a busy hour asks for the same ones. */
  private readonly recent = new Map<string, Buffer>();

  constructor(private readonly secret: string) {}

  of(bucket: Bucket, bucketAt: number, sn: string): Buffer {
    const name = `${bucket}\u0000${bucketAt}\u0000${sn}`;
    let key = this.recent.get(name);
    if (!key) {
      key = createHmac('sha256', this.secret).update(`telemetry-contributor\u0000${name}`).digest().subarray(0, 16);
      if (this.recent.size >= KEYS_REMEMBERED) this.recent.clear();
      this.recent.set(name, key);
    }
    return key;
  }
}
