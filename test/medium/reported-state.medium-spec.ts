import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeviceOwnership, DeviceRegistry, ModelCatalog, readModelDefinition, ReadModel, ReportedState } from '#libs/devices';
import { newDeviceRow } from '../factories/devices.js';
import { insertSignedUpUser, startDevicesMedium, type MediumWorld } from '../support/medium.js';

/**
 * ReportedState on the real schema: per point the newest value by its time
 * wins whatever the arrival order (the rule is the upsert's WHERE), values
 * are kept only for the owner of the moment and leave with the device.
 */
describe('reported state', () => {
  let world: MediumWorld;
  let reported: ReportedState;

  beforeAll(async () => {
    world = await startDevicesMedium();
    reported = world.app.get(ReportedState);
  });

  afterAll(async () => {
    await world?.close();
  });

  const account = () => insertSignedUpUser(world);

  async function ownedDevice(ownerId: string | null): Promise<string> {
    const { issued } = await world.app.get(DeviceRegistry).register([{ ...newDeviceRow({ model: 'HT1' }), firmware: null }]);
    const { sn } = issued[0];
    if (ownerId) await world.sql('INSERT INTO device_bindings (sn, owner_id) VALUES ($1, $2)', [sn, ownerId]);
    return sn;
  }

  const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 8, 0, second));

  it('keeps per point the value with the newest time, whatever order they arrive in', async () => {
    const owner = await account();
    const sn = await ownedDevice(owner);
    expect(await reported.merge(sn, { power: { value: true, at: at(10) }, water_temp: { value: 41, at: at(10) } })).toEqual({
      ownerId: owner,
    });
    // A late older reading of one point, a newer one of the other.
    await reported.merge(sn, { power: { value: false, at: at(5) }, water_temp: { value: 44.5, at: at(20) } });
    expect(await reported.of(sn)).toEqual({
      power: { value: true, at: at(10).toISOString() },
      water_temp: { value: 44.5, at: at(20).toISOString() },
    });
  });

  it('in one batch, the newest of each point wins; many devices in one statement', async () => {
    const owner = await account();
    const [first, second] = [await ownedDevice(owner), await ownedDevice(owner)];
    const owners = await reported.mergeMany([
      { sn: first, values: { energy: { value: 1, at: at(3) } } },
      { sn: first, values: { energy: { value: 2, at: at(9) } } },
      { sn: first, values: { energy: { value: 3, at: at(6) } } },
      { sn: second, values: { energy: { value: 7, at: at(1) } } },
    ]);
    expect([...owners.entries()].sort()).toEqual(
      [
        [first, owner],
        [second, owner],
      ].sort(),
    );
    expect(await reported.of(first)).toEqual({ energy: { value: 2, at: at(9).toISOString() } });
    expect(await reported.of(second)).toEqual({ energy: { value: 7, at: at(1).toISOString() } });
  });

  it('keeps nothing for a device nobody owns', async () => {
    const sn = await ownedDevice(null);
    expect(await reported.merge(sn, { power: { value: true, at: at(1) } })).toEqual({ ownerId: null });
    expect(await world.sql('SELECT * FROM device_reported_points WHERE sn = $1', [sn])).toEqual([]);
  });

  it('belongs to the owner of the moment: after a factory reset the next owner sees none of it', async () => {
    const first = await account();
    const next = await account();
    const sn = await ownedDevice(first);
    await reported.merge(sn, { power: { value: true, at: at(1) } });
    expect(await world.sql('SELECT owner_id FROM device_reported_points WHERE sn = $1', [sn])).toEqual([{ owner_id: first }]);
    await world.app.get(DeviceOwnership).releaseAfterFactoryReset(sn);
    expect(await world.sql('SELECT * FROM device_reported_points WHERE sn = $1', [sn])).toEqual([]);
    await world.sql('INSERT INTO device_bindings (sn, owner_id) VALUES ($1, $2)', [sn, next]);
    expect(await reported.of(sn)).toEqual({});
    await reported.merge(sn, { target_temp: { value: 60, at: at(2) } });
    expect(await reported.of(sn)).toEqual({ target_temp: { value: 60, at: at(2).toISOString() } });
  });

  it('a merge racing a release leaves nothing behind for the old owner', async () => {
    const owner = await account();
    const sn = await ownedDevice(owner);
    await Promise.all([
      ...Array.from({ length: 10 }, (_, index) => reported.merge(sn, { energy: { value: index, at: at(index) } })),
      world.app.get(DeviceOwnership).unbind(owner, sn),
    ]);
    expect(await world.sql('SELECT * FROM device_reported_points WHERE sn = $1', [sn])).toEqual([]);
  });

  it('seeds the two demo models as valid definitions', async () => {
    const catalog = world.app.get(ModelCatalog);
    for (const model of ['PX1', 'HT1']) {
      const definition = await world.app.get(ReadModel).execute(model);
      expect(readModelDefinition(model, { name: definition.name, points: definition.points })).toEqual({ ok: true, value: definition });
      expect(await catalog.definitionOf(model)).toBe(definition);
    }
    expect((await world.app.get(ReadModel).execute('HT1')).points.map((point) => point.id)).toEqual([
      'power',
      'target_temp',
      'water_temp',
      'energy',
    ]);
    expect(await catalog.definitionOf('NO-SUCH-MODEL')).toBeNull();
  });
});
