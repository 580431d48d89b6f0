import { expect } from '@jest/globals';
import { differences } from './checks.js';
import { requestsOf, retainedInModel, STATE_POINTS, type ControlRequestModel } from './state-model.js';
import { stats } from './stats.js';
import type { World } from './world.js';

/**
 * device_reported_points, device_desired_requests and the retained desired
 * messages hold exactly what the model says; what the owner and members
 * read (GET state and history) and the owner's export show it, and someone
 * who no longer has the device reads nothing of it; and no value the proof
 * generated is anywhere in the database once its holder lost it.
 */
export async function expectStateAsModelled(world: World): Promise<void> {
  const state = world.state;
  const reportedRows = (await world.dataSource.query('SELECT sn, point, owner_id, value FROM device_reported_points')) as Array<{
    sn: string;
    point: string;
    owner_id: string;
    value: unknown;
  }>;
  const requestRows = (await world.dataSource.query(
    'SELECT sn, version, owner_id, asked, merged, status, requested_by, requested_by_role, rejected FROM device_desired_requests',
  )) as Array<{
    sn: string;
    version: number;
    owner_id: string;
    asked: unknown;
    merged: unknown;
    status: string;
    requested_by: string | null;
    requested_by_role: string;
    rejected: unknown;
  }>;
  const isStatePoint = (point: string) => (STATE_POINTS as readonly string[]).includes(point);
  const asStored = (request: ControlRequestModel) => ({
    owner: request.ownerId,
    asked: request.asked,
    merged: request.merged,
    status: request.status,
    requestedBy: request.requestedBy,
    role: request.role,
    rejected: request.rejected,
  });
  const sns = new Set([...world.retained.keys(), ...[...state.requests.values()].map((request) => request.sn)]);
  const found = [
    // Whatever wrote it (state reports, telemetry), a reported value is held for the device's owner of the moment only.
    ...reportedRows
      .filter((row) => row.owner_id !== world.owners.get(row.sn)?.userId)
      .map((row) => `device_reported_points ${row.sn}|${row.point} held for ${row.owner_id}, not the device's owner`),
    ...differences(
      'device_reported_points',
      new Map(
        reportedRows
          .filter((row) => isStatePoint(row.point))
          .map((row) => [`${row.sn}|${row.point}`, { owner: row.owner_id, value: row.value }]),
      ),
      new Map([...state.reported].map(([key, reported]) => [key, { owner: reported.ownerId, value: reported.value }])),
    ),
    ...differences(
      'device_desired_requests',
      new Map(
        requestRows.map((row) => [
          `${row.sn}|${row.version}`,
          {
            owner: row.owner_id,
            asked: row.asked,
            merged: row.merged,
            status: row.status,
            requestedBy: row.requested_by,
            role: row.requested_by_role,
            rejected: row.rejected,
          },
        ]),
      ),
      new Map([...state.requests].map(([key, request]) => [key, asStored(request)])),
    ),
    ...differences(
      'retained desired message',
      new Map([...sns].map((sn) => [sn, world.retained.get(sn) ?? null])),
      new Map([...sns].map((sn) => [sn, retainedInModel(world, sn)])),
    ),
    ...(await scanForValuesLetGo(world)),
  ];
  expect(found).toEqual([]);

  // What people read: the owner and members see the model's state and history; anyone else of the sequence, nothing.
  // What both views of a request show: its version, the given values, what became of it, and who asked when.
  const requestView = (request: ControlRequestModel, values: ControlRequestModel['asked']) => ({
    version: request.version,
    values,
    status: request.status,
    ...(request.status === 'rejected' ? { rejected: request.rejected } : {}),
    requestedAt: expect.any(String),
    requestedBy: { id: request.requestedBy, role: request.role },
  });
  const asHistoryView = (request: ControlRequestModel) => ({
    ...requestView(request, request.asked),
    settledAt: request.status === 'pending' ? null : expect.any(String),
  });
  for (const sn of world.runDevices) {
    const ownerId = world.owners.get(sn)?.userId;
    const readers = ownerId ? [ownerId, ...(state.members.get(sn) ?? [])] : [];
    const requests = ownerId ? requestsOf(world, sn, ownerId) : [];
    const latest = requests.at(-1);
    const reported = Object.fromEntries(
      [...state.reported].filter(([key]) => key.startsWith(`${sn}|`)).map(([key, value]) => [key.split('|')[1], value.value]),
    );
    for (const reader of readers) {
      const view = await world.readState.execute(reader, sn);
      expect({
        reader,
        reported: Object.fromEntries(
          Object.entries(view.reported)
            .filter(([point]) => isStatePoint(point))
            .map(([point, value]) => [point, value.value]),
        ),
        desired: view.desired,
      }).toEqual({
        reader,
        reported,
        desired: latest ? { ...requestView(latest, latest.merged), expiresAt: expect.any(String) } : null,
      });
      expect(await world.readHistory.execute(reader, sn)).toEqual([...requests].reverse().map(asHistoryView));
    }
    for (const other of world.run) {
      if (readers.includes(other) || !world.model.get(other)?.exists) continue;
      await expect(world.readState.execute(other, sn)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(world.readHistory.execute(other, sn)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  }

  // The export of each person of the sequence who owns or owned one of its devices holds the state and control history
  // of the devices they own now, and no other.
  const owners = new Set(
    world.history.filter((entry) => !entry.deleted && world.runDevices.includes(entry.sn)).map((entry) => entry.userId),
  );
  for (const person of world.run) {
    if (!world.model.get(person)?.exists || !owners.has(person)) continue;
    const exported = await world.exports.export(person);
    const owned = [...world.owners].filter(([, binding]) => binding.userId === person).map(([sn]) => sn);
    const deviceState = (exported.deviceState ?? {}) as Record<string, { reported: Record<string, { value: unknown }> }>;
    const deviceControl = (exported.deviceControl ?? {}) as Record<string, unknown[]>;
    expect({
      person,
      state: Object.fromEntries(
        Object.entries(deviceState).map(([sn, { reported }]) => [
          sn,
          Object.fromEntries(
            Object.entries(reported)
              .filter(([point]) => isStatePoint(point))
              .map(([point, value]) => [point, value.value]),
          ),
        ]),
      ),
      control: deviceControl,
    }).toEqual({
      person,
      state: Object.fromEntries(
        Object.keys(deviceState)
          .filter((sn) => owned.includes(sn))
          .map((sn) => [
            sn,
            Object.fromEntries(
              [...state.reported].filter(([key]) => key.startsWith(`${sn}|`)).map(([key, value]) => [key.split('|')[1], value.value]),
            ),
          ]),
      ),
      control: Object.fromEntries(
        owned.filter((sn) => requestsOf(world, sn, person).length > 0).map((sn) => [sn, requestsOf(world, sn, person).map(asHistoryView)]),
      ),
    });
    // A device in the export's state is one the person owns (it may hold only telemetry's points).
    expect(Object.keys(deviceState).filter((sn) => !owned.includes(sn))).toEqual([]);
  }
}

/** Every table, every column: none may hold a generated value whose holder lost it (or that was never to be kept). */
async function scanForValuesLetGo(world: World): Promise<string[]> {
  const values = world.state.dead.splice(0);
  if (values.length === 0) return [];
  stats.statesScanned += values.length;
  const patterns = values.map((value) => `%${value}%`);
  const sql = world.tables
    .map((table) => `SELECT '${table}' AS "table", t::text AS row FROM "${table}" t WHERE t::text LIKE ANY($1)`)
    .join(' UNION ALL ');
  const rows = (await world.dataSource.query(sql, [patterns])) as Array<{ table: string; row: string }>;
  return rows.flatMap((row) =>
    values.filter((value) => row.row.includes(value)).map((value) => `${row.table} still holds ${value}, whose holder lost it: ${row.row}`),
  );
}
