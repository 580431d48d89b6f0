import type { Aedes, AedesOptions } from 'aedes';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { deleteWillsOnReconnect, destroyOwnPersistence, pipeableRetainedStreams } from './aedes-workarounds.js';

export interface ScaleOut {
  options: Pick<AedesOptions, 'mq' | 'persistence'>;
  /** The node's Redis connection when scaled out (the throttle shares it), else undefined. */
  redis: Redis | undefined;
  /** Ends the persistence once the broker is closed: the shared one, or the in-memory one Aedes made itself. */
  destroyPersistence(broker: Aedes): Promise<void>;
  close(): Promise<void>;
}

/**
 * With REDIS_URL: `mqemitter-redis` and `aedes-persistence-redis`, so nodes
 * behind one TCP balancer share subscriptions, persistent sessions with their
 * queued QoS 1 messages, retained messages and wills. Without it: Aedes' own
 * in-memory emitter and persistence (one node).
 */
export async function scaleOut(redisUrl: string, log: Logger): Promise<ScaleOut> {
  if (!redisUrl) {
    return { options: {}, redis: undefined, destroyPersistence: destroyOwnPersistence, close: async () => undefined };
  }
  const { default: mqemitterRedis } = await import('mqemitter-redis');
  const { default: RedisPersistence } = await import('aedes-persistence-redis/asyncPersistence.js');
  const mq = mqemitterRedis({ connectionString: redisUrl });
  mq.state.on('error', (error: unknown) => log.warn({ err: error }, 'Redis emitter error'));
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', (error) => log.warn({ err: error }, 'Redis persistence error'));
  const persistence = new RedisPersistence({ conn: redis });
  pipeableRetainedStreams(persistence);
  deleteWillsOnReconnect(persistence, redis);
  let destroyed = false;
  return {
    options: { mq, persistence },
    redis,
    destroyPersistence: async () => {
      if (destroyed) return;
      destroyed = true;
      await persistence.destroy().catch(() => undefined);
    },
    close: async () => {
      if (redis.status !== 'end') redis.disconnect();
    },
  };
}
