import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * A Redis database of the suite's own on the shared server: an empty one
 * (another suite's, or what a killed run left, would hand this suite stale
 * sessions), tried from a random start so suites running at once rarely meet.
 * `release` empties it again.
 */
export async function ownRedisDatabase(serverUrl: string): Promise<{ url: string; release(): Promise<void> }> {
  const start = randomInt(1, 16);
  for (let step = 0; step < 15; step += 1) {
    const url = new URL(serverUrl);
    url.pathname = `/${((start + step - 1) % 15) + 1}`;
    const redis = new Redis(url.toString());
    const size = await redis.dbsize();
    redis.disconnect();
    if (size === 0) {
      return {
        url: url.toString(),
        async release() {
          const client = new Redis(url.toString());
          await client.flushdb();
          client.disconnect();
        },
      };
    }
  }
  throw new Error('no empty Redis database (1-15) on the test server: empty one with FLUSHDB');
}
