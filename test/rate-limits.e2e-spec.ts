import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { signIn } from './factories/users.js';

// Each test speaks as its own client address (X-Forwarded-For through a trusted loopback
// "balancer"), so the budgets of one test, or of another run sharing Redis, never meet.
const clientAddress = () => `198.51.${randomInt(0, 255)}.${randomInt(1, 255)}`;

const limits = (limit: number) => ({
  http: {
    trustProxy: 'loopback',
    rateLimits: {
      refresh: { limit, windowSeconds: 60 },
      oauth: { limit, windowSeconds: 60 },
      members: { limit, windowSeconds: 60 },
      pairings: { limit, windowSeconds: 60 },
    },
  },
});

async function post(url: string, address: string, body: unknown, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as unknown };
}

describe('rate limits per client address', () => {
  let backend: TestBackend;
  let token: string;

  beforeAll(async () => {
    backend = await startTestBackend(limits(3));
    token = (await signIn(backend)).accessToken;
  });
  afterAll(async () => {
    await backend?.stop();
  });

  const routes = [
    { name: 'refresh', path: '/v1/auth/refresh', body: { refreshToken: 'not-a-token' } },
    { name: 'oauth', path: '/v1/auth/oauth/wechat', body: { code: 'not-a-code' } },
    { name: 'members', path: '/v1/devices/SN-NOT-MINE-1/members', body: { phone: '+8613700009999' } },
    { name: 'pairings', path: '/v1/pairings', body: { sn: 'SN-NOT-MINE-2' } },
  ];

  it.each(routes)('$name: the fourth call in a window is 429 TOO_MANY_REQUESTS with Retry-After; other clients go on', async (route) => {
    const url = `${backend.provisioningUrl}${route.path}`;
    const client = clientAddress();
    for (let index = 0; index < 3; index += 1) expect((await post(url, client, route.body, token)).status).not.toBe(429);
    const refused = await post(url, client, route.body, token);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ statusCode: 429, error: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/try again in \d+ s/) });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    // Unauthenticated or not, each call counts; another address has its own budget.
    expect((await post(url, client, route.body)).status).toBe(429);
    expect((await post(url, clientAddress(), route.body, token)).status).not.toBe(429);
  });

  it('leaves routes without a limit alone', async () => {
    const client = clientAddress();
    for (let index = 0; index < 8; index += 1) {
      const answer = await fetch(`${backend.provisioningUrl}/v1/me`, {
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client },
      });
      expect(answer.status).toBe(200);
    }
  });
});

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) process.stderr.write('rate limits shared through Redis: skipped, REDIS_URL is not set\n');

(redisUrl ? describe : describe.skip)('rate limits shared through Redis (REDIS_URL)', () => {
  let first: TestBackend;
  let second: TestBackend;

  beforeAll(async () => {
    // Two replicas of provisioning behind one balancer, counting in the same Redis.
    first = await startTestBackend({ ...limits(4), redis: { url: redisUrl } });
    second = await startTestBackend({ ...limits(4), redis: { url: redisUrl } });
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
  });

  it('one budget per client across replicas', async () => {
    const client = clientAddress();
    const body = { refreshToken: 'not-a-token' };
    for (const backend of [first, second, first, second]) {
      expect((await post(`${backend.provisioningUrl}/v1/auth/refresh`, client, body)).status).toBe(401);
    }
    for (const backend of [first, second]) {
      const refused = await post(`${backend.provisioningUrl}/v1/auth/refresh`, client, body);
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect((await post(`${second.provisioningUrl}/v1/auth/refresh`, clientAddress(), body)).status).toBe(401);
  });
});
