import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEVICES_ENTITIES } from '#libs/devices';
import { IDENTITY_ENTITIES } from '#libs/identity';
import { PrivacyModule } from '#libs/privacy';
import { partitionName, TELEMETRY_ENTITIES, TelemetryMaintenance, TelemetryModule, TelemetryRetention } from '#libs/telemetry';
import { insertUser, startMedium, type MediumWorld } from '../support/medium.js';

const DAY = 24 * 3600_000;

/**
 * The day partitions of telemetry_readings on the real schema: created ahead,
 * taking in what the default partition caught meanwhile; retention dropping a
 * day only once all of it is past 30 days, deleting row by row only in the
 * day that straddles the cut-off.
 */
describe('telemetry partitions and retention', () => {
  let world: MediumWorld;
  let series: number;
  let owner: string;

  beforeAll(async () => {
    world = await startMedium({
      imports: [PrivacyModule, TelemetryModule],
      entities: [...IDENTITY_ENTITIES, ...DEVICES_ENTITIES, ...TELEMETRY_ENTITIES],
    });
    owner = await insertUser(world);
    await world.sql(
      `INSERT INTO consent_state (subject_id, purpose, granted, policy_version, at, event_seq) VALUES ($1, 'service', true, '2020-01', now(), 1)`,
      [owner],
    );
    [{ id: series }] = await world.sql<{ id: number }>(
      `INSERT INTO telemetry_series (owner_id, sn, point, last_at) VALUES ($1, 'PART-0001', 'water_temp', now()) RETURNING id`,
      [owner],
    );
  });

  afterAll(async () => {
    await world?.close();
  });

  const partitions = async () =>
    (
      await world.sql<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry_readings'::regclass ORDER BY 1`,
      )
    ).map((row) => row.name);
  const where = async (at: Date) =>
    (
      await world.sql<{ part: string }>(
        `SELECT tableoid::regclass::text AS part FROM telemetry_readings WHERE series_id = $1 AND at = $2`,
        [series, at],
      )
    )[0]?.part;
  const insert = (at: Date) =>
    world.sql(`INSERT INTO telemetry_readings (series_id, at, owner_id, value_num) VALUES ($1, $2, $3, 1)`, [series, at, owner]);

  it('keeps the days a reading may be accepted for ready at start, and a default partition for the rest', async () => {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const names = await partitions();
    expect(names).toContain('telemetry_readings_default');
    for (const day of [today - 7 * DAY, today, today + 3 * DAY]) expect(names).toContain(partitionName(day));
    expect(names).not.toContain(partitionName(today + 4 * DAY));
  });

  it('moves what the default partition caught into the partition created for its day', async () => {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const later = new Date(today + 10 * DAY + 3600_000);
    await insert(later);
    expect(await where(later)).toBe('telemetry_readings_default');
    const created = await world.app.get(TelemetryMaintenance).ensurePartitions(new Date(today + 10 * DAY));
    expect(created).toContain(today + 10 * DAY);
    expect(await where(later)).toBe(partitionName(today + 10 * DAY));
    // Again: nothing to create, nothing moves.
    expect(await world.app.get(TelemetryMaintenance).ensurePartitions(new Date(today + 10 * DAY))).toEqual([]);
  });

  it('drops a day once all of it is past 30 days, and deletes row by row only in the day straddling the cut-off', async () => {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const oldDay = today - 3 * DAY;
    const early = new Date(oldDay + 3600_000);
    const late = new Date(oldDay + 20 * 3600_000);
    await insert(early);
    await insert(late);
    // 30 days after 12:00 of that day: the day is cut in two, its partition stays.
    const noon = new Date(oldDay + 12 * 3600_000 + 30 * DAY);
    const first = await world.app.get(TelemetryRetention).apply(world.dataSource.manager, noon);
    expect(await where(early)).toBeUndefined();
    expect(await where(late)).toBe(partitionName(oldDay));
    expect(await partitions()).toContain(partitionName(oldDay));
    expect(first.partitionsDropped).toBeGreaterThan(0); // the days before it went whole
    expect(await partitions()).not.toContain(partitionName(oldDay - DAY));
    // Once the whole day is past 30 days, its partition goes with what is left in it.
    await world.app.get(TelemetryRetention).apply(world.dataSource.manager, new Date(oldDay + DAY + 30 * DAY));
    expect(await partitions()).not.toContain(partitionName(oldDay));
    expect(await where(late)).toBeUndefined();
    expect(await partitions()).toContain('telemetry_readings_default');
  });
});
