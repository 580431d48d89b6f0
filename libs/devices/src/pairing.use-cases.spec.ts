import { describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '#libs/config';
import type { PersonalDataWriter } from '#libs/privacy';
import { callLog, fakeDataSource } from '../../../test/support/unit.js';
import type { BindingRepository } from './binding.repository.js';
import { ClaimCodeLockout } from './claim-code-lockout.js';
import type { ClaimFailureRepository } from './claim-failure.repository.js';
import { ConfirmPairing } from './confirm-pairing.use-case.js';
import { CredentialHasher, generateClaimCode } from './credentials.js';
import type { DeviceHistory } from './device-history.js';
import type { DeviceRepository } from './device.repository.js';
import type { PairingStatus } from './pairing.entity.js';
import type { PairingCandidate, PairingRepository } from './pairing.repository.js';
import { formatQrPayload } from './qr.js';
import { StartPairing } from './start-pairing.use-case.js';

const config = { pairing: { tokenTtlSeconds: 600, maxWrongTokens: 5, claimFailuresPerHour: 5 } } as AppConfig;
const hasher = new CredentialHasher('k'.repeat(32));
const NOW = new Date('2026-02-03T04:05:06.000Z');
const OWNER = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';

/** The registry and ownership of one world, in memory: what the use-cases read and write through their repositories. */
function world() {
  const log = callLog();
  const claimCode = generateClaimCode();
  const devices = new Map([['PX1-0001', hasher.hash(claimCode)]]);
  const bindings = new Map<string, { ownerId: string; boundAt: Date }>();
  const failures: Array<{ userId: string; at: Date }> = [];
  const written: Array<{ subjectId: string; values: Record<string, unknown> }> = [];
  const pairings: Array<PairingCandidate & { sn: string; created_at: Date; ended_at: Date; wrong_tokens: number }> = [];
  const history: string[] = [];
  const { dataSource, transactions } = fakeDataSource();

  const claimFailures = {
    lockAccount: async (_manager: EntityManager, userId: string) => log.note(`lock ${userId}`),
    countSince: async (_manager: EntityManager, userId: string, since: Date) => {
      log.note(`count ${userId}`);
      return failures.filter((failure) => failure.userId === userId && failure.at >= since).length;
    },
    record: async (_manager: EntityManager, userId: string, at: Date) => {
      log.note(`record ${userId}`);
      failures.push({ userId, at });
    },
  } as unknown as ClaimFailureRepository;
  const deviceRepository = {
    forPairing: async (sn: string) => {
      log.note(`device ${sn}`);
      const claimCodeHash = devices.get(sn);
      return claimCodeHash === undefined ? undefined : { claimCodeHash, binding: bindings.get(sn) };
    },
  } as unknown as DeviceRepository;
  const bindingRepository = {
    bindingOf: async (sn: string) => bindings.get(sn),
    ownerOf: async (sn: string) => bindings.get(sn)?.ownerId ?? null,
    bindIfFree: async (_manager: EntityManager, sn: string, ownerId: string, at: Date) => {
      if (bindings.has(sn)) return false;
      bindings.set(sn, { ownerId, boundAt: at });
      return true;
    },
  } as unknown as BindingRepository;
  const pairingRepository = {
    lastBoundId: async (sn: string, userId: string) =>
      pairings.filter((pairing) => pairing.sn === sn && pairing.user_id === userId && pairing.status === 'bound').at(-1)?.id ?? null,
    lockCandidates: async (_manager: EntityManager, sn: string, endedAfter: Date) =>
      pairings.filter((pairing) => pairing.sn === sn && pairing.ended_at > endedAfter).reverse(),
    countWrongToken: async (_manager: EntityManager, sn: string, now: Date, max: number) =>
      pairings
        .filter((pairing) => pairing.sn === sn && pairing.status === 'pending' && pairing.expires_at > now)
        .map((pairing) => {
          pairing.wrong_tokens += 1;
          if (pairing.wrong_tokens >= max) Object.assign(pairing, { status: 'rejected', ended_at: now });
          return { id: pairing.id, status: pairing.status, createdAt: pairing.created_at };
        }),
    end: async (_manager: EntityManager, id: string, status: PairingStatus, at: Date) => {
      Object.assign(
        pairings.find((pairing) => pairing.id === id)!,
        { status, ended_at: at },
      );
    },
  } as unknown as PairingRepository;
  const writer = {
    insert: async (_entity: unknown, subjectId: string, values: Record<string, unknown>) => {
      written.push({ subjectId, values });
      pairings.push({
        id: values.id as string,
        user_id: subjectId,
        sn: values.sn as string,
        token_hash: values.tokenHash as string,
        status: 'pending',
        expires_at: values.expiresAt as Date,
        created_at: values.createdAt as Date,
        ended_at: values.endedAt as Date,
        wrong_tokens: 0,
      });
      return { values, dropped: [], live: new Set() };
    },
  } as unknown as PersonalDataWriter;
  const deviceHistory = {
    record: async (_manager: EntityManager, entry: { userId: string; sn: string; event: string }) =>
      void history.push(`${entry.event} ${entry.sn} ${entry.userId}`),
  } as unknown as DeviceHistory;

  const start = new StartPairing(
    dataSource,
    config,
    hasher,
    writer,
    new ClaimCodeLockout(config, claimFailures),
    deviceRepository,
    pairingRepository,
  );
  const confirm = new ConfirmPairing(dataSource, config, hasher, deviceHistory, pairingRepository, bindingRepository);
  const label = formatQrPayload('PX1-0001', claimCode);
  const wrongLabel = formatQrPayload('PX1-0001', generateClaimCode());
  return { start, confirm, label, wrongLabel, log, failures, written, bindings, pairings, history, transactions };
}

describe('StartPairing', () => {
  it('opens a pending pairing for the right label: a one-time token, only its hash stored, network info normalised', async () => {
    const w = world();
    const answer = await w.start.execute(OWNER, { qr: w.label, network: { routerMac: 'aa-bb-cc-dd-ee-ff', wifiName: 'home' } }, NOW);
    const expiresAt = new Date(NOW.getTime() + 600_000);
    expect(answer).toEqual({
      kind: 'started',
      pairingId: expect.any(String),
      sn: 'PX1-0001',
      token: expect.any(String),
      expiresAt: expiresAt.toISOString(),
    });
    if (answer.kind !== 'started') throw new Error('not started');
    expect(w.written).toEqual([
      {
        subjectId: OWNER,
        values: expect.objectContaining({
          id: answer.pairingId,
          sn: 'PX1-0001',
          tokenHash: hasher.hash(answer.token),
          status: 'pending',
          expiresAt,
          endedAt: expiresAt,
          routerMac: 'AA:BB:CC:DD:EE:FF',
          wifiName: 'home',
          phoneModel: null,
        }),
      },
    ]);
    expect(JSON.stringify(w.written)).not.toContain(answer.token);
    expect(w.transactions()).toBe(1);
  });

  it('counts a wrong claim code under the account lock, in the transaction that checked the count', async () => {
    const w = world();
    await expect(w.start.execute(OWNER, { qr: w.wrongLabel }, NOW)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(w.log.calls).toEqual([`lock ${OWNER}`, `count ${OWNER}`, 'device PX1-0001', `record ${OWNER}`]);
    expect(w.failures).toEqual([{ userId: OWNER, at: NOW }]);
    expect(w.written).toEqual([]);
  });

  it('after five wrong claim codes in an hour refuses even the right label (429) without reading the device; an hour later it pairs', async () => {
    const w = world();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await expect(w.start.execute(OWNER, { qr: w.wrongLabel }, NOW)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    w.log.calls.length = 0;
    await expect(w.start.execute(OWNER, { qr: w.label }, NOW)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(w.log.calls).toEqual([`lock ${OWNER}`, `count ${OWNER}`]);
    await expect(w.start.execute(OTHER, { qr: w.label }, NOW)).resolves.toMatchObject({ kind: 'started' });
    await expect(w.start.execute(OWNER, { qr: w.label }, new Date(NOW.getTime() + 3600_001))).resolves.toMatchObject({ kind: 'started' });
  });

  it('a typed SN has no claim code to guess: no lockout', async () => {
    const w = world();
    await expect(w.start.execute(OWNER, { sn: 'PX1-0001' }, NOW)).resolves.toMatchObject({ kind: 'started' });
    expect(w.log.calls).toEqual(['device PX1-0001']);
  });

  it('refuses what is not a label (400) before any transaction, an unknown SN (404) and a device another account owns (409)', async () => {
    const w = world();
    await expect(w.start.execute(OWNER, { qr: 'https://example.com' }, NOW)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(w.transactions()).toBe(0);
    await expect(w.start.execute(OWNER, { sn: 'PX1-9999' }, NOW)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    w.bindings.set('PX1-0001', { ownerId: OTHER, boundAt: NOW });
    await expect(w.start.execute(OWNER, { qr: w.label }, NOW)).rejects.toMatchObject({ code: 'DEVICE_ALREADY_BOUND' });
    expect(w.written).toEqual([]);
  });

  it("answers the caller's own device as bound, with the pairing that bound it, and opens nothing", async () => {
    const w = world();
    const started = await w.start.execute(OWNER, { qr: w.label }, NOW);
    if (started.kind !== 'started') throw new Error('not started');
    await w.confirm.execute('PX1-0001', started.token, NOW);
    const again = await w.start.execute(OWNER, { sn: 'PX1-0001' }, NOW);
    expect(again).toEqual({
      kind: 'already_yours',
      pairingId: started.pairingId,
      sn: 'PX1-0001',
      status: 'bound',
      boundAt: NOW.toISOString(),
    });
    expect(w.written).toHaveLength(1);
  });
});

describe('ConfirmPairing', () => {
  async function pending(w: ReturnType<typeof world>, userId = OWNER, at = NOW) {
    const started = await w.start.execute(userId, { sn: 'PX1-0001' }, at);
    if (started.kind !== 'started') throw new Error('not started');
    return started;
  }

  it('binds on the right token, writes the owner history, and answers a replay of the used token the same', async () => {
    const w = world();
    const pairing = await pending(w);
    expect(await w.confirm.execute('PX1-0001', pairing.token, NOW)).toEqual({ pairingId: pairing.pairingId, status: 'bound' });
    expect(w.bindings.get('PX1-0001')).toEqual({ ownerId: OWNER, boundAt: NOW });
    expect(w.history).toEqual([`bound PX1-0001 ${OWNER}`]);
    expect(await w.confirm.execute('PX1-0001', pairing.token, NOW)).toEqual({ pairingId: pairing.pairingId, status: 'bound' });
    expect(w.history).toHaveLength(1);
  });

  it('counts a wrong token against the open pairings and rejects them at the limit; nothing open answers pairingId null', async () => {
    const w = world();
    expect(await w.confirm.execute('PX1-0001', 'nothing', NOW)).toEqual({ pairingId: null, status: 'rejected' });
    const pairing = await pending(w);
    for (let attempt = 1; attempt < 5; attempt += 1) {
      expect(await w.confirm.execute('PX1-0001', `wrong-${attempt}`, NOW)).toEqual({ pairingId: pairing.pairingId, status: 'pending' });
    }
    expect(await w.confirm.execute('PX1-0001', 'wrong-5', NOW)).toEqual({ pairingId: pairing.pairingId, status: 'rejected' });
    expect(await w.confirm.execute('PX1-0001', pairing.token, NOW)).toEqual({ pairingId: pairing.pairingId, status: 'rejected' });
    expect(w.bindings.size).toBe(0);
  });

  it('a token after expiry ends the pairing as expired; a device bound meanwhile by another account rejects it', async () => {
    const w = world();
    const late = await pending(w);
    expect(await w.confirm.execute('PX1-0001', late.token, new Date(NOW.getTime() + 600_000))).toEqual({
      pairingId: late.pairingId,
      status: 'expired',
    });
    const mine = await pending(w, OWNER);
    const theirs = await pending(w, OTHER);
    expect(await w.confirm.execute('PX1-0001', theirs.token, NOW)).toMatchObject({ status: 'bound' });
    expect(await w.confirm.execute('PX1-0001', mine.token, NOW)).toEqual({ pairingId: mine.pairingId, status: 'rejected' });
    expect(w.bindings.get('PX1-0001')?.ownerId).toBe(OTHER);
  });
});
