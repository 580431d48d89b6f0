import { afterEach, describe, expect, it } from '@jest/globals';
import { addressKey, AuthThrottle, blockDuration, type AuthThrottleSettings } from './auth-throttle.js';
import { MemoryThrottleStore } from './auth-throttle.stores.js';

const SETTINGS: AuthThrottleSettings = {
  windowMs: 60_000,
  maxFailuresPerUsername: 3,
  maxFailuresPerAddress: 5,
  blockMs: 10_000,
  maxBlockMs: 35_000,
};

describe('blockDuration', () => {
  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 35_000],
    [10, 35_000],
    [1000, 35_000],
    [0, 10_000],
  ])('block %i in a row lasts %i ms (doubling, capped)', (blocks, ms) => {
    expect(blockDuration(blocks, SETTINGS)).toBe(ms);
  });
});

describe('addressKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, undefined],
    ['', undefined],
  ])('%s counts as %s', (address, key) => expect(addressKey(address)).toBe(key));
});

describe('AuthThrottle', () => {
  let now = 1_000_000;
  const stores: MemoryThrottleStore[] = [];
  const throttle = (settings = SETTINGS) => {
    const store = new MemoryThrottleStore(100_000, () => now);
    stores.push(store);
    return new AuthThrottle(store, settings, 'key-for-tests-0123456789abcdef', () => now);
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  const fail = async (subject: AuthThrottle, times: number, username: string | undefined, address: string | undefined) => {
    for (let index = 0; index < times; index += 1) await subject.recordFailure(username, address);
  };

  it('refuses a username once it reaches its limit, until the block passes', async () => {
    const subject = throttle();
    await fail(subject, 2, 'SN-0001', '10.0.0.1');
    expect(subject.blocked('SN-0001', '10.0.0.1')).toBeUndefined();
    await fail(subject, 1, 'SN-0001', '10.0.0.2');
    expect(subject.blocked('SN-0001', '10.0.0.9')).toBe('username');
    expect(subject.blocked('SN-0002', '10.0.0.1')).toBeUndefined();
    now += SETTINGS.blockMs - 1;
    expect(subject.blocked('SN-0001', undefined)).toBe('username');
    now += 1;
    expect(subject.blocked('SN-0001', undefined)).toBeUndefined();
  });

  it('refuses an address once it reaches its limit, whatever username it tries', async () => {
    const subject = throttle();
    for (let index = 0; index < SETTINGS.maxFailuresPerAddress; index += 1) await subject.recordFailure(`SN-${index}`, '203.0.113.7');
    expect(subject.blocked('SN-9999', '203.0.113.7')).toBe('address');
    expect(subject.blocked(undefined, '203.0.113.7')).toBe('address');
    expect(subject.blocked('SN-9999', '203.0.113.8')).toBeUndefined();
    expect(subject.activeBlocks('address')).toBe(1);
  });

  it('counts failures in a window opened by the first: a slow trickle never blocks', async () => {
    const subject = throttle();
    for (let index = 0; index < 10; index += 1) {
      await fail(subject, 2, 'SN-0001', undefined);
      now += SETTINGS.windowMs;
    }
    expect(subject.blocked('SN-0001', undefined)).toBeUndefined();
  });

  it('doubles each further block in a row, up to the cap, and forgets after a quiet spell', async () => {
    const subject = throttle();
    const blockLength = async () => {
      await fail(subject, SETTINGS.maxFailuresPerUsername, 'SN-0001', undefined);
      const started = now;
      while (subject.blocked('SN-0001', undefined)) now += 1000;
      return now - started;
    };
    expect(await blockLength()).toBe(10_000);
    expect(await blockLength()).toBe(20_000);
    expect(await blockLength()).toBe(35_000);
    expect(await blockLength()).toBe(35_000);
    now += SETTINGS.maxBlockMs + SETTINGS.windowMs;
    expect(await blockLength()).toBe(10_000);
  });

  it('leaves out what it is not given (the built-in services are counted by address only)', async () => {
    const subject = throttle();
    await fail(subject, 10, undefined, '10.0.0.1');
    expect(subject.blocked('svc-provisioning', undefined)).toBeUndefined();
    expect(subject.blocked(undefined, '10.0.0.1')).toBe('address');
  });

  it('keeps neither an SN nor an address in its keys', async () => {
    const seen: string[] = [];
    const store = new MemoryThrottleStore(100_000, () => now);
    stores.push(store);
    store.onBlock((key) => seen.push(key));
    const subject = new AuthThrottle(store, SETTINGS, 'key-for-tests-0123456789abcdef', () => now);
    await fail(subject, 5, 'SN-SECRETIVE', '198.51.100.23');
    expect(seen).toHaveLength(2);
    expect(seen.join(' ')).not.toMatch(/SN-SECRETIVE|198\.51/);
  });

  it('answers quickly while nothing is blocked and bounds its memory', async () => {
    const store = new MemoryThrottleStore(10, () => now);
    stores.push(store);
    const subject = new AuthThrottle(store, SETTINGS, 'key-for-tests-0123456789abcdef', () => now);
    for (let index = 0; index < 100; index += 1) await subject.recordFailure(`SN-${index}`, undefined);
    expect(subject.activeBlocks('username')).toBe(0);
    // the oldest keys were dropped to stay within 10: SN-0 starts counting again
    await fail(subject, 2, 'SN-0', undefined);
    expect(subject.blocked('SN-0', undefined)).toBeUndefined();
  });
});
