import { describe, expect, it, jest } from '@jest/globals';
import { CredentialCache } from './credential-cache.js';
import { CredentialHasher, generateClaimCode, generateDeviceSecret } from './credentials.js';
import { parseDevicesCsv, validateDeviceRows } from './device-rows.js';
import { formatQrPayload, parseQrPayload } from './qr.js';

describe('device credentials', () => {
  it('makes secrets of at least 128 random bits, never twice the same', () => {
    const secrets = new Set(Array.from({ length: 1000 }, generateDeviceSecret));
    expect(secrets.size).toBe(1000);
    for (const secret of secrets) expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(generateClaimCode()).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
  });

  it('verifies against the keyed hash only with the same key', () => {
    const hasher = new CredentialHasher('k'.repeat(32));
    const secret = generateDeviceSecret();
    const stored = hasher.hash(secret);
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(hasher.matches(secret, stored)).toBe(true);
    expect(hasher.matches(`${secret}x`, stored)).toBe(false);
    expect(hasher.matches(secret, null)).toBe(false);
    expect(new CredentialHasher('o'.repeat(32)).matches(secret, stored)).toBe(false);
  });
});

describe('QR payload', () => {
  it('round-trips and refuses what is not ours', () => {
    const claim = generateClaimCode();
    expect(parseQrPayload(formatQrPayload('SN-0001', claim))).toEqual({ sn: 'SN-0001', claimCode: claim });
    expect(parseQrPayload(` apl1:SN-0001:${claim.toLowerCase()} `)).toEqual({ sn: 'SN-0001', claimCode: claim });
    expect(parseQrPayload(`APL1:SN/0001:${claim}`)).toBeUndefined();
    expect(parseQrPayload(`APL2:SN-0001:${claim}`)).toBeUndefined();
    expect(parseQrPayload('https://example.com')).toBeUndefined();
  });
});

describe('device rows', () => {
  it('reads CSV with any column order, quotes and CRLF, and normalises MACs', () => {
    const csv = '\uFEFFmodel,sn,mac,firmware\r\n"Purifier, X1",SN-0001,aa-bb-cc-dd-ee-ff,1.0\r\n\r\nHeater,SN-0002,AABBCCDDEE00,\n';
    const rows = validateDeviceRows(parseDevicesCsv(csv), 'csv');
    expect(rows).toEqual([
      { sn: 'SN-0001', mac: 'AA:BB:CC:DD:EE:FF', model: 'Purifier, X1', firmware: '1.0' },
      { sn: 'SN-0002', mac: 'AA:BB:CC:DD:EE:00', model: 'Heater', firmware: null },
    ]);
  });

  it('refuses a bad header, bad SNs and MACs, naming the lines', () => {
    expect(() => parseDevicesCsv('sn,mac\nX,Y\n')).toThrow(/missing: model/);
    expect(() => parseDevicesCsv('sn,mac,model,owner\n')).toThrow(/unknown: owner/);
    expect(() => validateDeviceRows(parseDevicesCsv('sn,mac,model\nSN/1,AA:BB:CC:DD:EE:FF,M\nSN-3,zz,M\n'), 'csv')).toThrow(
      /line 2: sn must.*line 3: mac must/,
    );
    expect(() => validateDeviceRows([{ sn: 'SN-0001', mac: 'AA:BB:CC:DD:EE:FF', model: 'M', owner: 'x' }])).toThrow(
      /item 0: unknown field owner/,
    );
    expect(() => validateDeviceRows([])).toThrow(/no devices/);
    expect(() => validateDeviceRows({})).toThrow(/JSON array/);
  });
});

describe('credential cache', () => {
  const options = { ttlMs: 60_000, maxEntries: 3, negativeTtlMs: 1000 };

  it('loads concurrent misses in one query and serves repeats from memory', async () => {
    const loader = jest.fn(async (sns: string[]) => new Map(sns.filter((sn) => sn !== 'NONE').map((sn) => [sn, `hash-${sn}`])));
    const cache = new CredentialCache(loader, options);
    const results = await Promise.all(['A1', 'B2', 'A1', 'NONE'].map((sn) => cache.lookup(sn)));
    expect(results).toEqual(['hash-A1', 'hash-B2', 'hash-A1', null]);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(loader.mock.calls[0][0]).toEqual(['A1', 'B2', 'NONE']);
    expect(await cache.lookup('A1')).toBe('hash-A1');
    expect(loader).toHaveBeenCalledTimes(1);
    cache.invalidate('A1');
    await cache.lookup('A1');
    expect(loader).toHaveBeenCalledTimes(2);
  });

  it('evicts the least recently used and expires by TTL', async () => {
    let now = 0;
    const loader = jest.fn(async (sns: string[]) => new Map(sns.map((sn) => [sn, sn])));
    const cache = new CredentialCache(loader, options, () => now);
    for (const sn of ['A1', 'B2', 'C3']) await cache.lookup(sn);
    await cache.lookup('A1');
    await cache.lookup('D4');
    expect(cache.size).toBe(3);
    loader.mockClear();
    await cache.lookup('A1');
    expect(loader).not.toHaveBeenCalled();
    await cache.lookup('B2');
    expect(loader).toHaveBeenCalledTimes(1);
    now = 120_000;
    await cache.lookup('A1');
    expect(loader).toHaveBeenCalledTimes(2);
  });

  it('does not cache a value invalidated while it was loading', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let version = 'old';
    const loader = jest.fn(async (sns: string[]) => {
      const value = version;
      await gate;
      return new Map(sns.map((sn) => [sn, value]));
    });
    const cache = new CredentialCache(loader, options);
    const first = cache.lookup('A1');
    while (loader.mock.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    cache.invalidate('A1');
    version = 'new';
    release();
    expect(await first).toBe('old');
    expect(await cache.lookup('A1')).toBe('new');
  });

  it('answers a lookup whose SN is invalidated before its batch is sent', async () => {
    const loader = jest.fn(async (sns: string[]) => new Map(sns.map((sn) => [sn, `hash-${sn}`])));
    const cache = new CredentialCache(loader, options);
    const waiting = cache.lookup('A1');
    cache.invalidate('A1');
    expect(await waiting).toBe('hash-A1');
    expect(cache.size).toBe(0);
  });

  it('passes a database failure to the caller and recovers', async () => {
    let fail = true;
    const cache = new CredentialCache(async (sns) => {
      if (fail) throw new Error('db down');
      return new Map(sns.map((sn) => [sn, 'h']));
    }, options);
    await expect(cache.lookup('A1')).rejects.toThrow('db down');
    fail = false;
    await expect(cache.lookup('A1')).resolves.toBe('h');
  });
});
