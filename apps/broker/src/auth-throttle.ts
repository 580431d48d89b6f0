import { createHmac } from 'node:crypto';

/** What a run of failed CONNECTs is counted against: the username (a device's SN) or the source address. */
export type ThrottleScope = 'username' | 'address';

export interface AuthThrottleSettings {
  /** Failures are counted in a window that opens at the first failure and lasts this long. */
  windowMs: number;
  maxFailuresPerUsername: number;
  maxFailuresPerAddress: number;
  /** The first refusal period; each further one while the key's earlier blocks are remembered doubles, up to maxBlockMs. */
  blockMs: number;
  maxBlockMs: number;
}

/**
 * Counters the throttle keeps: in this process, or in Redis so every broker
 * node sees the same counts and blocks (auth-throttle.stores.ts). Keys are
 * keyed hashes, never an SN or an address.
 */
export interface ThrottleStore {
  /** One more failure for `key`; answers the failures in its current window (opened by the first, `windowMs` long). */
  addFailure(key: string, windowMs: number): Promise<number>;
  /** `key` starts a block: its failure window is closed and its block count, remembered `rememberMs`, is answered. */
  addBlock(key: string, rememberMs: number): Promise<number>;
  /** Tells every node, this one included (through `onBlock`), that `key` is refused until `until` (epoch ms). */
  announceBlock(key: string, until: number): Promise<void>;
  onBlock(listener: (key: string, until: number) => void): void;
  close(): Promise<void>;
}

/** How long the n-th block in a row lasts: doubling from blockMs, capped at maxBlockMs. */
export function blockDuration(blocksInARow: number, settings: Pick<AuthThrottleSettings, 'blockMs' | 'maxBlockMs'>): number {
  const doublings = Math.min(Math.max(blocksInARow - 1, 0), 30);
  return Math.min(settings.blockMs * 2 ** doublings, settings.maxBlockMs);
}

/**
 * The key a source address is counted under: IPv4 as is (also when the socket
 * reports it IPv4-mapped), IPv6 by its /64, since one host usually holds a
 * whole /64 and would otherwise get a fresh budget per address.
 */
export function addressKey(remoteAddress: string | undefined): string | undefined {
  if (!remoteAddress) return undefined;
  const address = remoteAddress.replace(/%.*$/, '').toLowerCase();
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1];
  const [head, tail] = address.includes('::') ? address.split('::', 2) : [address, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array.from({ length: Math.max(8 - headGroups.length - tailGroups.length, 0) }, () => '0');
  const groups = [...headGroups, ...zeros, ...tailGroups].slice(0, 4).map((group) => (parseInt(group, 16) || 0).toString(16));
  return `${groups.join(':')}::/64`;
}

/**
 * Slows password guessing over MQTT (EN 303 645 provision 5.1-5). Failed
 * guesses (connect-decision.ts `isFailedGuess`) are counted per username and
 * per source address; at the limit that key is refused for `blockMs`, then
 * for twice as long at the next limit, and so on up to `maxBlockMs`, so the
 * real device is refused at most that long after the guessing stops. While a
 * key is blocked its CONNECTs are refused before any credential is checked.
 *
 * The check on every CONNECT is a lookup in this node's copy of the active
 * blocks, empty in normal operation: a reconnect storm of devices with the
 * right secrets never waits on this or on Redis. Only failures reach the store.
 */
export class AuthThrottle {
  private readonly blocks: Record<ThrottleScope, Map<string, number>> = { username: new Map(), address: new Map() };
  /** Expired blocks are swept when a map reaches this size, so sweeping stays cheap however many keys an attack uses. */
  private readonly sweepAt: Record<ThrottleScope, number> = { username: 1024, address: 1024 };

  constructor(
    private readonly store: ThrottleStore,
    private readonly settings: AuthThrottleSettings,
    private readonly hashKey: string,
    private readonly now: () => number = Date.now,
  ) {
    store.onBlock((key, until) => {
      const scope = key.startsWith('address:') ? 'address' : 'username';
      const blocks = this.blocks[scope];
      if (until > (blocks.get(key) ?? 0)) blocks.set(key, until);
      if (blocks.size >= this.sweepAt[scope]) {
        this.prune(scope);
        this.sweepAt[scope] = Math.max(1024, blocks.size * 2);
      }
    });
  }

  /**
   * Which of the two is refused now, if either. `username` is left out for
   * the built-in service accounts: guessing at their names must not cut the
   * services off the broker (their address is still counted).
   */
  blocked(username: string | undefined, address: string | undefined): ThrottleScope | undefined {
    if (username !== undefined && this.isBlocked('username', username)) return 'username';
    if (address !== undefined && this.isBlocked('address', address)) return 'address';
    return undefined;
  }

  /** Whether any address is refused now: callers need not find out a client's address otherwise. */
  get addressesBlocked(): boolean {
    return this.blocks.address.size > 0;
  }

  /** Counts one failed guess against each key given; starts a block where one reaches its limit. */
  async recordFailure(username: string | undefined, address: string | undefined): Promise<void> {
    await Promise.all([
      username !== undefined ? this.count('username', username, this.settings.maxFailuresPerUsername) : undefined,
      address !== undefined ? this.count('address', address, this.settings.maxFailuresPerAddress) : undefined,
    ]);
  }

  /** Blocks active on this node, by scope (for tests and metrics). */
  activeBlocks(scope: ThrottleScope): number {
    this.prune(scope);
    return this.blocks[scope].size;
  }

  private isBlocked(scope: ThrottleScope, value: string): boolean {
    const blocks = this.blocks[scope];
    if (blocks.size === 0) return false;
    const key = this.key(scope, value);
    const until = blocks.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    blocks.delete(key);
    return false;
  }

  private async count(scope: ThrottleScope, value: string, limit: number): Promise<void> {
    const key = this.key(scope, value);
    const failures = await this.store.addFailure(key, this.settings.windowMs);
    // Exactly at the limit: of several nodes counting at once, one starts the block.
    if (failures !== limit) return;
    const blocksInARow = await this.store.addBlock(key, this.settings.maxBlockMs + this.settings.windowMs);
    await this.store.announceBlock(key, this.now() + blockDuration(blocksInARow, this.settings));
  }

  private key(scope: ThrottleScope, value: string): string {
    return `${scope}:${createHmac('sha256', this.hashKey).update(`mqtt-auth-throttle\0${value}`).digest('base64url').slice(0, 22)}`;
  }

  private prune(scope: ThrottleScope): void {
    const now = this.now();
    for (const [key, until] of this.blocks[scope]) if (until <= now) this.blocks[scope].delete(key);
  }
}
