import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { MqttAuthThrottleConfig } from '#libs/config';
import { AuthThrottle, type ThrottleStore } from './auth-throttle.js';

type BlockListener = (key: string, until: number) => void;

/** The throttle's counters in this process: one broker node, or `npm start`. Bounded, so many distinct keys cannot grow it without end. */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();
  private readonly blocksInARow = new Map<string, { count: number; forgetAt: number }>();
  private readonly listeners: BlockListener[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async addFailure(key: string, windowMs: number): Promise<number> {
    const now = this.now();
    let entry = this.failures.get(key);
    if (!entry || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + windowMs };
      this.failures.delete(key);
      this.failures.set(key, entry);
      this.bound(this.failures);
    }
    entry.count += 1;
    return entry.count;
  }

  async addBlock(key: string, rememberMs: number): Promise<number> {
    const now = this.now();
    this.failures.delete(key);
    const previous = this.blocksInARow.get(key);
    const count = previous && previous.forgetAt > now ? previous.count + 1 : 1;
    this.blocksInARow.delete(key);
    this.blocksInARow.set(key, { count, forgetAt: now + rememberMs });
    this.bound(this.blocksInARow);
    return count;
  }

  async announceBlock(key: string, until: number): Promise<void> {
    for (const listener of this.listeners) listener(key, until);
  }

  onBlock(listener: BlockListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private bound(map: Map<string, unknown>): void {
    while (map.size > this.maxKeys) map.delete(map.keys().next().value as string);
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(key);
    for (const [key, entry] of this.blocksInARow) if (entry.forgetAt <= now) this.blocksInARow.delete(key);
  }
}

const PREFIX = 'mqtt-auth-throttle:';
const CHANNEL = `${PREFIX}blocks`;

/**
 * The throttle's counters in Redis (REDIS_URL), shared by every broker node:
 * a guesser spreading attempts over the nodes behind one address meets one
 * budget. Counting is atomic (MULTI), so of two nodes reaching the limit
 * together only one starts the block; blocks are announced on a pub/sub
 * channel to every node's local copy, and a node starting up reads the blocks
 * already running.
 */
export class RedisThrottleStore implements ThrottleStore {
  private readonly listeners: BlockListener[] = [];

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== CHANNEL) return;
      const [key, until] = message.split(' ');
      if (key && Number(until) > 0) this.emit(key, Number(until));
    });
  }

  static async open(redis: Redis, onError: (error: unknown) => void): Promise<RedisThrottleStore> {
    const subscriber = redis.duplicate();
    subscriber.on('error', onError);
    const store = new RedisThrottleStore(redis, subscriber);
    await subscriber.subscribe(CHANNEL);
    return store;
  }

  /** Hands the blocks already running (set by other nodes before this one started) to the listeners. */
  async loadRunningBlocks(): Promise<void> {
    const keys: string[] = [];
    for await (const batch of this.redis.scanStream({ match: `${PREFIX}block:*`, count: 500 }) as AsyncIterable<string[]>) {
      keys.push(...batch);
    }
    for (let start = 0; start < keys.length; start += 500) {
      const slice = keys.slice(start, start + 500);
      const values = await this.redis.mget(slice);
      slice.forEach((redisKey, index) => {
        const until = Number(values[index]);
        if (until > 0) this.emit(redisKey.slice(`${PREFIX}block:`.length), until);
      });
    }
  }

  async addFailure(key: string, windowMs: number): Promise<number> {
    const name = `${PREFIX}fail:${key}`;
    const results = await this.redis.multi().set(name, '0', 'PX', windowMs, 'NX').incr(name).exec();
    return Number(resultAt(results, 1));
  }

  async addBlock(key: string, rememberMs: number): Promise<number> {
    const name = `${PREFIX}blocks-in-a-row:${key}`;
    const results = await this.redis.multi().del(`${PREFIX}fail:${key}`).incr(name).pexpire(name, rememberMs).exec();
    return Number(resultAt(results, 1));
  }

  async announceBlock(key: string, until: number): Promise<void> {
    this.emit(key, until);
    await this.redis
      .multi()
      .set(`${PREFIX}block:${key}`, String(until), 'PX', Math.max(until - Date.now(), 1))
      .publish(CHANNEL, `${key} ${until}`)
      .exec();
  }

  onBlock(listener: BlockListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.subscriber.status !== 'end') this.subscriber.disconnect();
  }

  private emit(key: string, until: number): void {
    for (const listener of this.listeners) listener(key, until);
  }
}

function resultAt(results: Array<[Error | null, unknown]> | null, index: number): unknown {
  const entry = results?.[index];
  if (!entry) throw new Error('Redis transaction was discarded');
  if (entry[0]) throw entry[0];
  return entry[1];
}

/** The throttle of one node: counted in Redis when the nodes share one (REDIS_URL), else in this process. */
export async function openAuthThrottle(
  settings: MqttAuthThrottleConfig,
  hashKey: string,
  redis: Redis | undefined,
  log: Logger,
): Promise<{ throttle: AuthThrottle; close(): Promise<void> }> {
  const shared = redis
    ? await RedisThrottleStore.open(redis, (error) => log.warn({ err: error }, 'Redis throttle channel error'))
    : undefined;
  const store: ThrottleStore = shared ?? new MemoryThrottleStore();
  const throttle = new AuthThrottle(
    store,
    {
      windowMs: settings.windowSeconds * 1000,
      maxFailuresPerUsername: settings.maxFailuresPerUsername,
      maxFailuresPerAddress: settings.maxFailuresPerAddress,
      blockMs: settings.blockSeconds * 1000,
      maxBlockMs: settings.maxBlockSeconds * 1000,
    },
    hashKey,
  );
  // Read once the throttle listens, so a block announced meanwhile is not missed either.
  await shared
    ?.loadRunningBlocks()
    .catch((error: unknown) => log.warn({ err: error }, 'blocks already running on other nodes were not read'));
  return { throttle, close: () => store.close() };
}
