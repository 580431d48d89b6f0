import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeviceRegistry, PresenceRecorder, sqlCredentialLoader } from '#libs/devices';
import { newDeviceRow } from '../factories/devices.js';
import { startDevicesMedium, type MediumWorld } from '../support/medium.js';

/**
 * What the broker writes and reads of devices, on the real schema: presence
 * flushed in one statement, where a late write (another node's, older) never
 * rolls a newer state back; and the credential loader of the broker's cache.
 */
describe('presence and the credential loader', () => {
  let world: MediumWorld;
  let sns: string[];

  beforeAll(async () => {
    world = await startDevicesMedium();
    const rows = [newDeviceRow(), newDeviceRow()].map((row) => ({ ...row, firmware: null }));
    await world.app.get(DeviceRegistry).register(rows);
    sns = rows.map((row) => row.sn);
  });

  afterAll(async () => {
    await world?.close();
  });

  const presenceOf = async (sn: string) =>
    (await world.sql<{ online: boolean; last_seen_at: Date | null }>('SELECT online, last_seen_at FROM devices WHERE sn = $1', [sn]))[0];

  it('writes what was collected in one flush; a later flush with an older time keeps the newer state', async () => {
    const recorder = new PresenceRecorder(world.dataSource, 60_000);
    const at = new Date('2026-05-01T10:00:00.000Z');
    recorder.seen(sns[0], true, at);
    recorder.seen(sns[1], false, at);
    await recorder.flush();
    expect(recorder.writes).toBe(1);
    expect(await presenceOf(sns[0])).toEqual({ online: true, last_seen_at: at });
    expect(await presenceOf(sns[1])).toEqual({ online: false, last_seen_at: at });
    // Another node saw the first device go away a second earlier; its write lands late.
    recorder.seen(sns[0], false, new Date(at.getTime() - 1000));
    await recorder.flush();
    expect(await presenceOf(sns[0])).toEqual({ online: true, last_seen_at: at });
    recorder.seen(sns[0], false, new Date(at.getTime() + 1000));
    await recorder.stop();
    expect(await presenceOf(sns[0])).toEqual({ online: false, last_seen_at: new Date(at.getTime() + 1000) });
  });

  it('loads the secret hashes of many SNs in one query; unknown SNs are absent, revoked ones null', async () => {
    await world.app.get(DeviceRegistry).revoke(sns[1]);
    const found = await sqlCredentialLoader(world.dataSource)([sns[0], sns[1], 'NOPE-0000']);
    expect(found.get(sns[0])).toMatch(/^[0-9a-f]{64}$/);
    expect(found.get(sns[1])).toBeNull();
    expect(found.has('NOPE-0000')).toBe(false);
  });
});
