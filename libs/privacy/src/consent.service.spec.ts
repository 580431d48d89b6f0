import { describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { callLog, fakeDataSource } from '../../../test/support/unit.js';
import type { AccessLogRepository } from './access-log.repository.js';
import type { ConsentLedger, ConsentState } from './consent-ledger.js';
import { ConsentService } from './consent.service.js';
import { EraseAccount } from './erase-account.use-case.js';
import { livePurposesFrom, type LawfulBasis } from './lawful-basis.js';
import type { PersonalDataEraser } from './personal-data-eraser.js';
import type { PersonalDataRepository } from './personal-data.repository.js';
import type { PolicyService } from './policy.service.js';
import { PURPOSES, type Purpose } from './purposes.js';
import type { RestrictionRepository } from './restriction.repository.js';

const ME = '00000000-0000-4000-8000-000000000001';

/** The ledger, restriction flags and erasures of one world, in memory; the live rule is the real one. */
function world() {
  const log = callLog();
  const events: Array<{ subjectId: string; purpose: Purpose; granted: boolean; policyVersion: string; channel: string }> = [];
  const restricted = new Map<string, boolean>();
  const erasures: Array<{ subjectId: string; live: Purpose[]; accountErased: boolean }> = [];
  const { dataSource } = fakeDataSource();
  const state = (subjectId: string): ConsentState[] => {
    const last = new Map<Purpose, ConsentState>();
    for (const event of events.filter((entry) => entry.subjectId === subjectId)) {
      last.set(event.purpose, { purpose: event.purpose, granted: event.granted, policyVersion: event.policyVersion, at: new Date(0) });
    }
    return [...last.values()];
  };
  const ledger = {
    currentState: async (subjectId: string) => {
      log.note('read state');
      return state(subjectId);
    },
    append: async (_manager: EntityManager, entry: (typeof events)[number]) => {
      log.note(`append ${entry.purpose}=${entry.granted} (${entry.channel})`);
      events.push({
        subjectId: entry.subjectId,
        purpose: entry.purpose,
        granted: entry.granted,
        policyVersion: entry.policyVersion,
        channel: entry.channel,
      });
    },
    history: async () => [],
  } as unknown as ConsentLedger;
  const basis = {
    livePurposes: async (subjectId: string) =>
      livePurposesFrom(new Map(state(subjectId).map((entry) => [entry.purpose, entry.granted])), restricted.get(subjectId) ?? false),
    isRestricted: async (subjectId: string) => restricted.get(subjectId) ?? false,
  } as unknown as LawfulBasis;
  const eraser = {
    eraseDead: async (_manager: EntityManager, subjectId: string, live: ReadonlySet<Purpose>, accountErased = false) => {
      log.note('erase');
      erasures.push({ subjectId, live: [...live].sort(), accountErased });
      return 0;
    },
  } as unknown as PersonalDataEraser;
  let version = '2020-01';
  const policies = { versionInForce: async () => version } as unknown as PolicyService;
  const storage = {
    lockSubject: async (_manager: EntityManager, subjectId: string, mode: string) => log.note(`lock ${mode} ${subjectId}`),
  } as unknown as PersonalDataRepository;
  const restrictions = {
    set: async (_manager: EntityManager, subjectId: string, value: boolean) => void restricted.set(subjectId, value),
    deleteOf: async (_manager: EntityManager, subjectId: string) => {
      log.note('delete restriction');
      restricted.delete(subjectId);
    },
  } as unknown as RestrictionRepository;
  const accessLog = { deleteOf: async () => log.note('delete access log') } as unknown as AccessLogRepository;
  const consents = new ConsentService(dataSource, ledger, basis, eraser, policies, storage, restrictions);
  const erase = new EraseAccount(dataSource, ledger, eraser, policies, storage, accessLog, restrictions);
  return { consents, erase, log, events, erasures, restricted, setVersion: (next: string) => void (version = next) };
}

async function signedUp() {
  const w = world();
  await w.consents.acceptService(undefined, ME, 'login');
  w.log.calls.length = 0;
  return w;
}

describe('ConsentService', () => {
  it('accepts service once, under the version in force, whatever the number of logins', async () => {
    const w = world();
    await w.consents.acceptService(undefined, ME, 'login');
    await w.consents.acceptService(undefined, ME, 'login');
    expect(w.events).toEqual([{ subjectId: ME, purpose: 'service', granted: true, policyVersion: '2020-01', channel: 'login' }]);
  });

  it('lists the six purposes, never decided ones as not granted with null version and time', async () => {
    const w = await signedUp();
    const list = await w.consents.list(ME);
    expect(list.map((entry) => entry.purpose)).toEqual([...PURPOSES]);
    expect(list.find((entry) => entry.purpose === 'marketing')).toEqual({
      purpose: 'marketing',
      granted: false,
      policyVersion: null,
      at: null,
    });
    expect(list.find((entry) => entry.purpose === 'service')).toMatchObject({ granted: true, policyVersion: '2020-01' });
  });

  it('grants under the exclusive lock; the same decision again records nothing, a new policy version records it again', async () => {
    const w = await signedUp();
    await w.consents.set(ME, 'marketing', true);
    expect(w.log.calls).toEqual([`lock exclusive ${ME}`, 'read state', 'append marketing=true (app)', 'erase', 'read state']);
    await w.consents.set(ME, 'marketing', true);
    expect(w.events).toHaveLength(2);
    w.setVersion('2026-03');
    await w.consents.set(ME, 'marketing', true);
    expect(w.events.at(-1)).toMatchObject({ purpose: 'marketing', granted: true, policyVersion: '2026-03' });
  });

  it('a withdrawal erases, before it answers, with the purposes still live after it', async () => {
    const w = await signedUp();
    await w.consents.set(ME, 'fault_diagnostics', true);
    await w.consents.set(ME, 'network_setup', true);
    const answer = await w.consents.set(ME, 'fault_diagnostics', false);
    expect(answer).toMatchObject({ purpose: 'fault_diagnostics', granted: false });
    expect(w.erasures.at(-1)).toEqual({ subjectId: ME, live: ['network_setup', 'service'], accountErased: false });
  });

  it('refuses an unknown purpose (404) and withdrawing service on its own (409), recording nothing', async () => {
    const w = await signedUp();
    await expect(w.consents.set(ME, 'telemetry', true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(w.consents.set(ME, 'service', false)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('DELETE /v1/me'),
    });
    expect(w.events).toHaveLength(1);
  });

  it('restriction leaves only service live and erases the rest at once; lifting it brings nothing back by itself', async () => {
    const w = await signedUp();
    await w.consents.set(ME, 'marketing', true);
    expect(await w.consents.restrict(ME, true)).toEqual({ restricted: true });
    expect(w.erasures.at(-1)).toEqual({ subjectId: ME, live: ['service'], accountErased: false });
    expect(await w.consents.restriction(ME)).toEqual({ restricted: true });
    await w.consents.restrict(ME, false);
    expect(w.erasures.at(-1)!.live).toEqual(['marketing', 'service']);
    expect(w.events.filter((event) => event.purpose === 'marketing')).toHaveLength(1);
  });
});

describe('EraseAccount', () => {
  it('ends every granted purpose in the ledger, service last, erases everything with the hooks, then the access log and restriction', async () => {
    const w = await signedUp();
    await w.consents.set(ME, 'marketing', true);
    await w.consents.set(ME, 'repair_contact', true);
    w.log.calls.length = 0;
    await w.erase.execute(ME);
    expect(w.log.calls).toEqual([
      `lock exclusive ${ME}`,
      'read state',
      'append marketing=false (account_erasure)',
      'append repair_contact=false (account_erasure)',
      'append service=false (account_erasure)',
      'erase',
      'delete access log',
      'delete restriction',
    ]);
    expect(w.erasures.at(-1)).toEqual({ subjectId: ME, live: [], accountErased: true });
  });

  it('an erased account stays erased: no second erasure, no grant, no restriction', async () => {
    const w = await signedUp();
    await w.erase.execute(ME);
    await expect(w.erase.execute(ME)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'This account was erased' });
    await expect(w.consents.set(ME, 'marketing', true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(w.consents.restrict(ME, true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(w.consents.acceptService(undefined, ME, 'login')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
