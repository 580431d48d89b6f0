import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '#libs/database';
import {
  CampaignEntity,
  CampaignRepository,
  FirmwareImageEntity,
  FirmwareImageRepository,
  JobEntity,
  JobRepository,
  type NewJob,
} from '#libs/firmware';
import { createTestDatabase } from '../support/backend.js';

// The job repository on a real PostgreSQL with the real migrations: what the rules lean on the
// database for (one open campaign per device, one sweeper per expired job) must hold under races.

const ENTITIES = [FirmwareImageEntity, CampaignEntity, JobEntity];
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let replicaA: DataSource;
let replicaB: DataSource;
let sn = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  replicaA = await new DataSource(dataSourceOptions(database.url, ENTITIES)).initialize();
  replicaB = await new DataSource(dataSourceOptions(database.url, ENTITIES)).initialize();
});

afterAll(async () => {
  await replicaA?.destroy();
  await replicaB?.destroy();
  await database?.drop();
});

async function devices(count: number): Promise<string[]> {
  const sns = Array.from({ length: count }, () => `JR-${process.pid}-${++sn}`);
  await replicaA.query(
    `INSERT INTO devices (sn, mac, model, firmware, secret_hash, claim_code_hash)
     SELECT sn, 'AA:BB:CC:DD:EE:FF', 'JR', '1.0.0', repeat('a', 64), repeat('b', 64) FROM unnest($1::varchar[]) AS sn`,
    [sns],
  );
  return sns;
}

async function campaign(version = '2.0.0'): Promise<string> {
  const firmwareId = randomUUID();
  await new FirmwareImageRepository(replicaA).insert({
    id: firmwareId,
    model: `JR-${randomUUID()}`,
    version,
    size: 10,
    sha256: 'a'.repeat(64),
    signature: 'c2ln',
    keyId: 'k',
    uploadedBy: null,
  });
  const id = randomUUID();
  await new CampaignRepository(replicaA).insert({
    id,
    firmwareId,
    steps: [100],
    targeted: 0,
    failureThreshold: 0.2,
    jobTimeoutSeconds: 60,
    allowDowngrade: false,
    fromVersions: null,
    createdBy: null,
  });
  return id;
}

const jobsFor = (sns: string[], notified = true): NewJob[] =>
  sns.map((one) => ({ id: randomUUID(), sn: one, step: 1, fromVersion: '1.0.0', notified }));
const later = (seconds: number) => new Date(Date.now() + seconds * 1000);

describe('JobRepository on PostgreSQL', () => {
  it('gives a device to one of two campaigns created at the same moment, never both', async () => {
    const sns = await devices(200);
    const [first, second] = [await campaign(), await campaign()];
    const [a, b] = await Promise.all([
      replicaA.transaction((manager) => new JobRepository(replicaA).insertMany(first, jobsFor(sns), new Date(), later(60), manager)),
      replicaB.transaction((manager) =>
        new JobRepository(replicaB).insertMany(second, jobsFor([...sns].reverse()), new Date(), later(60), manager),
      ),
    ]);
    expect(a.length + b.length).toBe(200);
    const rows = (await replicaA.query(`SELECT sn, count(*)::int AS count FROM firmware_jobs WHERE sn = ANY($1) GROUP BY sn`, [
      sns,
    ])) as Array<{
      count: number;
    }>;
    expect(rows).toHaveLength(200);
    expect(rows.every((row) => row.count === 1)).toBe(true);
  });

  it('times every expired job out exactly once when two replicas sweep at once', async () => {
    const sns = await devices(300);
    const id = await campaign();
    await replicaA.transaction((manager) => new JobRepository(replicaA).insertMany(id, jobsFor(sns), later(-120), later(-60), manager));
    const now = new Date();
    const [a, b] = await Promise.all([new JobRepository(replicaA).timeOut(now), new JobRepository(replicaB).timeOut(now)]);
    const swept = [...a, ...b].filter((job) => job.campaignId === id).map((job) => job.sn);
    expect(swept.sort()).toEqual([...sns].sort());
    const states = (await replicaA.query(`SELECT DISTINCT state FROM firmware_jobs WHERE campaign_id = $1`, [id])) as Array<{
      state: string;
    }>;
    expect(states).toEqual([{ state: 'timedOut' }]);
    expect((await new JobRepository(replicaA).timeOut(new Date())).filter((job) => job.campaignId === id)).toEqual([]);
  });

  it('lets two replicas claim lost job messages without sending any twice', async () => {
    const sns = await devices(100);
    const id = await campaign();
    await replicaA.transaction((manager) => new JobRepository(replicaA).insertMany(id, jobsFor(sns), later(-60), later(600), manager));
    const [a, b] = await Promise.all([
      new JobRepository(replicaA).claimUnpublished(later(-30), 1000),
      new JobRepository(replicaB).claimUnpublished(later(-30), 1000),
    ]);
    const claimed = [...a, ...b].map((job) => job.sn).filter((one) => sns.includes(one));
    expect(claimed.sort()).toEqual([...sns].sort());
    expect(a[0] ?? b[0]).toMatchObject({ version: '2.0.0', size: 10, keyId: 'k' });
  });

  it("moves a job forward only, and only on its own device's word", async () => {
    const [mine, other] = await devices(2);
    const id = await campaign();
    const jobs = new JobRepository(replicaA);
    const [job] = await replicaA.transaction((manager) => jobs.insertMany(id, jobsFor([mine, other]), new Date(), later(60), manager));
    const jobId = job.sn === mine ? job.id : (await jobs.list(id, { limit: 10 })).find((row) => row.sn === mine)!.id;
    const at = new Date();
    expect(await jobs.recordProgress(other, jobId, { state: 'failed' }, ['notified', 'downloading', 'installing'], at)).toBeNull();
    expect(
      await jobs.recordProgress(mine, jobId, { state: 'installing', progress: 30 }, ['notified', 'downloading', 'installing'], at),
    ).toEqual({
      campaignId: id,
    });
    expect(await jobs.recordProgress(mine, jobId, { state: 'downloading', progress: 90 }, ['notified', 'downloading'], at)).toBeNull();
    expect((await jobs.list(id, { limit: 10 })).find((row) => row.sn === mine)).toMatchObject({ state: 'installing', progress: 30 });
  });

  it('succeeds a job only on the exact target version, noting any other the device reports', async () => {
    const [device] = await devices(1);
    const id = await campaign('2.0.0');
    const jobs = new JobRepository(replicaA);
    await replicaA.transaction((manager) => jobs.insertMany(id, jobsFor([device]), new Date(), later(60), manager));
    expect(await jobs.settleOnReport(device, '1.0.0', new Date())).toEqual({ campaignId: id, succeeded: false });
    expect((await jobs.list(id, { limit: 1 }))[0]).toMatchObject({ state: 'notified', reportedVersion: '1.0.0', endedAt: null });
    expect(await jobs.settleOnReport(device, '2.0.0', new Date())).toEqual({ campaignId: id, succeeded: true });
    expect((await jobs.list(id, { limit: 1 }))[0]).toMatchObject({ state: 'succeeded', reportedVersion: '2.0.0', progress: 100 });
    expect(await jobs.settleOnReport(device, '2.0.0', new Date())).toBeNull();
  });
});
