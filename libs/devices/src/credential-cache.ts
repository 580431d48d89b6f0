import type { CredentialLoader } from './broker-devices.repository.js';

export interface CredentialCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Unknown SNs are remembered briefly too, so a storm of bad SNs does not reach the database either. */
  negativeTtlMs?: number;
  /** SNs gathered into one query while the event loop turns. */
  maxBatch?: number;
}

interface Entry {
  hash: string | null;
  expiresAt: number;
}

interface Pending {
  resolve(hash: string | null): void;
  reject(error: unknown): void;
  promise: Promise<string | null>;
}

/**
 * The broker's memory of device credential hashes (never secrets), keyed by
 * SN: LRU with a TTL. Misses that arrive together are loaded in one query,
 * and concurrent lookups of one SN share it, so a reconnect storm of 10,000
 * devices costs a handful of queries, and none at all while entries are warm.
 */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Pending>();
  private queued: Array<{ sn: string; pending: Pending }> = [];
  private flushScheduled = false;
  hits = 0;
  misses = 0;
  loads = 0;

  constructor(
    private readonly loader: CredentialLoader,
    private readonly options: CredentialCacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The stored hash for this SN (null: unknown or revoked). Rejects only when the database cannot be read. */
  lookup(sn: string): Promise<string | null> {
    const entry = this.entries.get(sn);
    if (entry && entry.expiresAt > this.now()) {
      this.hits += 1;
      // refresh its place in the LRU order
      this.entries.delete(sn);
      this.entries.set(sn, entry);
      return Promise.resolve(entry.hash);
    }
    if (entry) this.entries.delete(sn);
    this.misses += 1;
    const existing = this.inflight.get(sn);
    if (existing) return existing.promise;
    let resolve!: (hash: string | null) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<string | null>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    const pending: Pending = { resolve, reject, promise };
    this.inflight.set(sn, pending);
    this.queued.push({ sn, pending });
    if (this.queued.length >= (this.options.maxBatch ?? 500)) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A 2 ms window gathers the misses of a storm into few queries; with a
      // flush per event-loop turn (setImmediate) the cold storm made thousands
      // of one-row queries and ran at under half the bare broker's rate.
      setTimeout(() => this.flush(), 2);
    }
    return promise;
  }

  /** Forgets an SN (its secret was rotated or revoked); a load already under way is not cached. */
  invalidate(sn: string): void {
    this.entries.delete(sn);
    this.inflight.delete(sn);
  }

  clear(): void {
    this.entries.clear();
    this.inflight.clear();
  }

  private flush(): void {
    this.flushScheduled = false;
    // Each waiter travels with its SN, so one invalidated in the meantime is still answered.
    const waiting = this.queued.map(({ sn, pending }) => [sn, pending] as const);
    this.queued = [];
    if (waiting.length === 0) return;
    this.loads += 1;
    this.loader(waiting.map(([sn]) => sn)).then(
      (found) => {
        const now = this.now();
        for (const [sn, pending] of waiting) {
          const hash = found.get(sn) ?? null;
          // store only when nobody invalidated the SN while it was loading
          if (this.inflight.get(sn) === pending) {
            this.inflight.delete(sn);
            this.store(sn, hash, now);
          }
          pending.resolve(hash);
        }
      },
      (error: unknown) => {
        for (const [sn, pending] of waiting) {
          if (this.inflight.get(sn) === pending) this.inflight.delete(sn);
          pending.reject(error);
        }
      },
    );
  }

  private store(sn: string, hash: string | null, now: number): void {
    const ttl = hash === null ? (this.options.negativeTtlMs ?? 5000) : this.options.ttlMs;
    this.entries.set(sn, { hash, expiresAt: now + ttl });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
