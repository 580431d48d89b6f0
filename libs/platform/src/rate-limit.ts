import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ThrottlerGuard,
  ThrottlerStorageService,
  type ThrottlerLimitDetail,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;
import type { Response } from 'express';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig, RateLimitsConfig } from '#libs/config';
import { DomainError } from './domain-error.js';

export type RateLimitName = keyof RateLimitsConfig;
const RATE_LIMIT = 'appliance:rate-limit';

/** Limits a route per client address, by the named entry of http.rateLimits. */
export const RateLimit = (name: RateLimitName) => SetMetadata(RATE_LIMIT, name);

/**
 * @nestjs/throttler, applied only to routes marked @RateLimit(name), each with
 * its own window from config. Beyond the limit: 429 TOO_MANY_REQUESTS in the
 * contract's body, with Retry-After in seconds.
 */
class RateLimitGuard extends ThrottlerGuard {
  private limitOf(context: ExecutionContext): RateLimitName | undefined {
    return this.reflector.getAllAndOverride<RateLimitName | undefined>(RATE_LIMIT, [context.getHandler(), context.getClass()]);
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() !== 'http' || !this.limitOf(context);
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    return request.throttler.name === this.limitOf(request.context) ? super.handleRequest(request) : true;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, detail.timeToBlockExpire);
    context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(seconds));
    throw new DomainError('TOO_MANY_REQUESTS', `Too many requests from this address; try again in ${seconds} s`);
  }
}

/**
 * Counts in Redis, so replicas behind one balancer share each client's budget:
 * a fixed window per key (INCR, expiring after the window), then a block of
 * `blockDuration`. When Redis cannot be reached the request passes (logged):
 * an outage of the counter must not stop sign-ins.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private static readonly SCRIPT = `
    local blocked = redis.call('PTTL', KEYS[2])
    if blocked > 0 then
      return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1]), 1, blocked}
    end
    local hits = redis.call('INCR', KEYS[1])
    if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
    local ttl = redis.call('PTTL', KEYS[1])
    if hits > tonumber(ARGV[2]) and tonumber(ARGV[3]) > 0 then
      redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
      return {hits, ttl, 1, tonumber(ARGV[3])}
    end
    return {hits, ttl, 0, 0}`;
  private lastWarning = 0;
  private client?: Redis;

  /** Connects on the first count, so an app without limited routes (the broker's HTTP side) never does. */
  constructor(
    private readonly connect: () => Redis,
    private readonly logger: Logger,
  ) {}

  async close(): Promise<void> {
    await this.client?.quit().catch(() => this.client?.disconnect());
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, name: string): Promise<ThrottlerStorageRecord> {
    const hitsKey = `rate-limit:${name}:${key}`;
    try {
      this.client ??= this.connect();
      const [totalHits, ttlMs, blocked, blockMs] = (await this.client.eval(
        RedisThrottlerStorage.SCRIPT,
        2,
        hitsKey,
        `${hitsKey}:blocked`,
        ttl,
        limit,
        blockDuration,
      )) as [number, number, number, number];
      return {
        totalHits,
        timeToExpire: Math.ceil(Math.max(ttlMs, 0) / 1000),
        isBlocked: blocked === 1,
        timeToBlockExpire: Math.ceil(blockMs / 1000),
      };
    } catch (error) {
      if (Date.now() - this.lastWarning > 60_000) {
        this.lastWarning = Date.now();
        this.logger.warn({ err: error }, 'rate limits not counted: Redis unreachable; requests pass meanwhile');
      }
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }
}

/** The guard for one HTTP app, counting in Redis when redis.url is set, else in this process. */
export async function rateLimitGuard(config: AppConfig, logger: Logger): Promise<{ guard: ThrottlerGuard; close(): Promise<void> }> {
  const limits = config.http.rateLimits;
  const throttlers = (Object.keys(limits) as RateLimitName[]).map((name) => ({
    name,
    limit: limits[name].limit,
    ttl: limits[name].windowSeconds * 1000,
  }));
  let storage: ThrottlerStorage = new ThrottlerStorageService();
  let close = async () => (storage as ThrottlerStorageService).onApplicationShutdown();
  if (config.redis.url) {
    const url = config.redis.url;
    const redisStorage = new RedisThrottlerStorage(() => {
      // A request waits at most a second for the counter (then passes, see above).
      const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, connectionName: 'rate-limits' });
      redis.on('error', () => undefined); // reported by increment(), at most once a minute
      return redis;
    }, logger);
    storage = redisStorage;
    close = () => redisStorage.close();
  }
  const guard = new RateLimitGuard({ throttlers, setHeaders: false }, storage, new Reflector());
  await guard.onModuleInit();
  return { guard, close };
}
