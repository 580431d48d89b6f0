import { expect } from '@jest/globals';
import { modelLive, type PairingModel } from './model.js';
import { stats } from './stats.js';
import { NOTE_FIELDS, ProofNoteEntity, type NoteValues, type World } from './world.js';

/** What the proof compares after steps and sequences: the database against the model. */

export const PAIRING_COLUMNS =
  'id, user_id, sn, status, wrong_tokens, ended_at, phone_model, os_version, router_mac, hidden_ssid, network_id, wifi_name';
export interface PairingRow {
  id: string;
  user_id: string;
  sn: string | null;
  status: string;
  wrong_tokens: number;
  ended_at: Date;
  phone_model: string | null;
  os_version: string | null;
  router_mac: string | null;
  hidden_ssid: boolean | null;
  network_id: string | null;
  wifi_name: string | null;
}
export const pairingFromRow = (row: PairingRow) => ({
  id: row.id,
  userId: row.user_id,
  sn: row.sn,
  status: row.status,
  wrongTokens: row.wrong_tokens,
  endedAt: new Date(row.ended_at).toISOString(),
  network: {
    phoneModel: row.phone_model,
    osVersion: row.os_version,
    routerMac: row.router_mac,
    hiddenSsid: row.hidden_ssid,
    networkId: row.network_id,
    wifiName: row.wifi_name,
  },
});
export const pairingAsStored = (pairing: PairingModel) => ({
  id: pairing.id,
  userId: pairing.userId,
  sn: pairing.snErased ? null : pairing.sn,
  status: pairing.status,
  wrongTokens: pairing.wrongTokens,
  endedAt: new Date(pairing.endedAt).toISOString(),
  network: pairing.network,
});

/** JSON with object keys sorted (jsonb does not keep the order they were sent in). */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );

/** Lines naming every difference between two keyed collections (readable in a counterexample, unlike a diff of hundreds of rows). */
export function differences(table: string, actual: Map<string, unknown>, expected: Map<string, unknown>): string[] {
  const found: string[] = [];
  for (const key of new Set([...actual.keys(), ...expected.keys()])) {
    const stored = canonical(actual.get(key) ?? null);
    const modelled = canonical(expected.get(key) ?? null);
    if (stored !== modelled) found.push(`${table} ${key}: stored ${stored}, model ${modelled}`);
  }
  return found;
}

/** pairings, device_bindings, device_history and fault_reports hold exactly what the model says, row by row. */
export async function expectDeviceTablesAsModelled(world: World): Promise<void> {
  const query = async <T>(sql: string) => (await world.dataSource.query(sql)) as T[];
  const keyed = <T>(items: T[], key: (item: T) => string, value: (item: T) => unknown = (item) => item) => {
    const map = new Map<string, unknown[]>();
    for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), value(item)]);
    for (const list of map.values()) list.sort((a, b) => canonical(a).localeCompare(canonical(b)));
    return map as Map<string, unknown>;
  };
  const livePairings = [...world.pairingModels.values()].filter((pairing) => !pairing.deleted);
  const pairingRows = await query<PairingRow>(`SELECT ${PAIRING_COLUMNS} FROM pairings`);
  const bindingRows = await query<{ sn: string; owner_id: string; bound_at: Date }>('SELECT sn, owner_id, bound_at FROM device_bindings');
  const historyRows = await query<{ user_id: string; sn: string | null; event: string; at: Date }>(
    'SELECT user_id, sn, event, at FROM device_history',
  );
  const reportRows = await query<{
    report_id: string;
    stored: string;
    sn: string | null;
    mac: string | null;
    diagnostics: unknown;
    owner_id: string | null;
    occurred_at: Date;
    received_at: Date;
  }>('SELECT report_id, stored, sn, mac, diagnostics, owner_id, occurred_at, received_at FROM fault_reports');
  const atMidnight = (instant: Date) => new Date(instant).toISOString().endsWith('T00:00:00.000Z');
  const found = [
    ...differences(
      'pairings',
      keyed(pairingRows.map(pairingFromRow), (row) => row.id),
      keyed(livePairings.map(pairingAsStored), (pairing) => pairing.id),
    ),
    ...differences(
      'device_bindings',
      keyed(
        bindingRows,
        (row) => row.sn,
        (row) => ({ owner: row.owner_id, boundAt: new Date(row.bound_at).toISOString() }),
      ),
      keyed(
        [...world.owners.entries()],
        ([sn]) => sn,
        ([, binding]) => ({ owner: binding.userId, boundAt: new Date(binding.boundAt).toISOString() }),
      ),
    ),
    ...differences(
      'device_history',
      keyed(
        historyRows,
        (row) => row.user_id,
        (row) => ({ sn: row.sn, event: row.event, at: new Date(row.at).toISOString() }),
      ),
      keyed(
        world.history.filter((entry) => !entry.deleted),
        (entry) => entry.userId,
        (entry) => ({ sn: entry.snErased ? null : entry.sn, event: entry.event, at: new Date(entry.at).toISOString() }),
      ),
    ),
    ...differences(
      'fault_reports',
      keyed(
        reportRows,
        (row) => row.report_id,
        (row) => ({
          stored: row.stored,
          sn: row.sn,
          mac: row.mac,
          diagnostics: row.diagnostics,
          owner: row.owner_id,
          // A full report keeps its exact receipt time; a de-identified one keeps only the days.
          ...(row.stored === 'full'
            ? { receivedAt: new Date(row.received_at).toISOString() }
            : { timesCutToDay: atMidnight(row.occurred_at) && atMidnight(row.received_at) }),
        }),
      ),
      keyed(
        [...world.reports.values()],
        (report) => report.reportId,
        (report) =>
          report.stored === 'full'
            ? {
                stored: 'full',
                sn: report.sn,
                mac: report.mac,
                diagnostics: report.diagnostics,
                owner: report.ownerId,
                receivedAt: new Date(report.receivedAt).toISOString(),
              }
            : { stored: 'deidentified', sn: null, mac: null, diagnostics: null, owner: null, timesCutToDay: true },
      ),
    ),
  ];
  expect(found).toEqual([]);
}

/** Every non-null tagged value in the database whose subject has no live purpose for it, per the model. */
export async function violations(world: World): Promise<string[]> {
  const found: string[] = [];
  for (const table of world.catalog.tables) {
    const columns = table.columns.map((column) => `"${column.column}"`).join(', ');
    const rows = (await world.dataSource.query(`SELECT "${table.subject.column}" AS subject, ${columns} FROM "${table.table}"`)) as Array<
      Record<string, unknown>
    >;
    for (const row of rows) {
      const subject = row.subject as string | null;
      for (const column of table.columns) {
        if (row[column.column] === null) continue;
        stats.valuesScanned += 1;
        const model = subject ? world.model.get(subject) : undefined;
        if (!column.purposes.some((purpose) => modelLive(model, purpose))) {
          found.push(
            `${table.table}.${column.column} of ${subject ?? 'nobody'} holds a value without a live purpose (${column.purposes.join(', ')})`,
          );
        }
      }
    }
  }
  return found;
}

/** Checks that the writer stored exactly what the model allows: values kept when live, dropped when not. */
export async function expectStored(world: World, subject: string, id: string, values: NoteValues): Promise<void> {
  const row = await world.dataSource.getRepository(ProofNoteEntity).findOneByOrFail({ id });
  const table = world.catalog.tableOf(ProofNoteEntity)!;
  for (const field of NOTE_FIELDS) {
    if (values[field] === undefined) continue;
    const column = table.columns.find((candidate) => candidate.property === field)!;
    const live = column.purposes.some((purpose) => modelLive(world.model.get(subject), purpose));
    expect({ field, stored: row[field] }).toEqual({ field, stored: live ? values[field] : null });
  }
}
