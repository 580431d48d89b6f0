import { describe, expect, it } from '@jest/globals';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { EntityManager, ObjectLiteral } from 'typeorm';
import { callLog, fakeDataSource } from '../../../test/support/unit.js';
import { PrivacyCatalog } from './catalog.js';
import type { LawfulBasis } from './lawful-basis.js';
import { personalWriteScope } from './personal-data-guard.js';
import { PersonalDataWriter } from './personal-data-writer.js';
import type { PersonalDataRepository } from './personal-data.repository.js';
import { DataSubject, PersonalData, taggedTables } from './personal-data.js';
import { loadPrivacyConfig } from './privacy-config.js';
import type { Purpose } from './purposes.js';

@Entity('spec_writer_notes')
class NoteEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @DataSubject() @Column({ name: 'owner_id', type: 'uuid', nullable: true }) ownerId!: string | null;
  @PersonalData({ category: 'wifi_name', purposes: ['network_setup'], retainFrom: 'at' })
  @Column({ name: 'wifi_name', type: 'varchar', nullable: true })
  wifiName!: string | null;
  @PersonalData({ category: 'device_sn', purposes: ['service', 'fault_diagnostics'], retainFrom: 'at' })
  @Column({ type: 'varchar', nullable: true })
  sn!: string | null;
  @Column({ type: 'varchar' }) label!: string;
  @Column({ type: 'timestamptz' }) at!: Date;
}

class UntaggedEntity {}

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';

/** The writer with storage and consents swapped: what it stores, in which scope, after which lock. */
function world(live: Record<string, Purpose[]>) {
  const log = callLog();
  const inserted: Array<{ values: ObjectLiteral; scope: string | undefined }> = [];
  const updated: Array<{ where: ObjectLiteral; values: ObjectLiteral }> = [];
  const rows: ObjectLiteral[] = [];
  const existingKeys = new Set<string>();
  const { dataSource } = fakeDataSource();
  const catalog = new PrivacyCatalog(loadPrivacyConfig(), taggedTables([NoteEntity]));
  const basis = {
    livePurposes: async (subjectId: string) => {
      log.note(`live ${subjectId}`);
      return new Set(live[subjectId] ?? []);
    },
    livePurposesOfMany: async (subjectIds: readonly string[]) => {
      log.note(`live ${[...subjectIds].join(',')}`);
      return new Map(subjectIds.map((id) => [id, new Set(live[id] ?? [])]));
    },
  } as unknown as LawfulBasis;
  const storage = {
    lockSubject: async (_manager: EntityManager, subjectId: string, mode: string) => log.note(`lock ${mode} ${subjectId}`),
    lockSubjectsShared: async (_manager: EntityManager, subjectIds: readonly string[]) => log.note(`lock shared ${subjectIds.join(',')}`),
    insert: async (_manager: EntityManager, _entity: unknown, values: ObjectLiteral) =>
      void inserted.push({ values, scope: personalWriteScope.getStore()?.kind }),
    update: async (_manager: EntityManager, _entity: unknown, where: ObjectLiteral, values: ObjectLiteral) => {
      updated.push({ where, values });
      return 1;
    },
    primaryKeyOf: () => ({
      columns: [{ databaseName: 'id', propertyName: 'id' }],
      fromRaw: (raw: Record<string, unknown>) => String(raw.id),
      fromValues: (values: ObjectLiteral) => String(values.id),
    }),
    insertRows: async (_manager: EntityManager, _entity: unknown, batch: ObjectLiteral[], returning?: unknown) => {
      const fresh = batch.filter((row) => !existingKeys.has(row.id as string));
      for (const row of fresh) existingKeys.add(row.id as string);
      rows.push(...fresh);
      return returning ? fresh.map((row) => ({ id: row.id })) : [];
    },
  } as unknown as PersonalDataRepository;
  const writer = new PersonalDataWriter(dataSource, catalog, basis, storage);
  return { writer, log, inserted, updated, rows, existingKeys };
}

const AT = new Date('2026-01-01T00:00:00Z');

describe('PersonalDataWriter', () => {
  it("stores a tagged value only while one of its purposes is live for the person, ties the row to them, under the person's shared lock", async () => {
    const w = world({ [ALICE]: ['service'] });
    const outcome = await w.writer.insert(NoteEntity, ALICE, { id: 'n1', wifiName: 'home', sn: 'PX1-0001', label: 'kept', at: AT });
    expect(outcome.dropped).toEqual(['wifiName']);
    expect(w.inserted).toEqual([
      { values: { id: 'n1', ownerId: ALICE, wifiName: null, sn: 'PX1-0001', label: 'kept', at: AT }, scope: 'writer' },
    ]);
    expect(w.log.calls).toEqual([`lock shared ${ALICE}`, `live ${ALICE}`]);
  });

  it('ties an inserted row to the person it is written for, and refuses to hand a row to someone else', async () => {
    const w = world({ [ALICE]: ['service'], [BOB]: ['service'] });
    await w.writer.insert(NoteEntity, ALICE, { id: 'n1', ownerId: BOB, label: 'x', at: AT });
    expect(w.inserted[0].values.ownerId).toBe(ALICE);
    await expect(w.writer.update(NoteEntity, ALICE, { id: 'n1' }, { ownerId: BOB })).rejects.toThrow(
      "spec_writer_notes: the row's ownerId must be the data subject the write is made for",
    );
    expect(w.updated).toEqual([]);
  });

  it("updates only the person's own rows, and writes nothing when nothing is left to write", async () => {
    const w = world({ [ALICE]: ['network_setup'] });
    const outcome = await w.writer.update(NoteEntity, ALICE, { id: 'n1' }, { wifiName: 'office', sn: 'PX1-0002' });
    expect(outcome).toMatchObject({ dropped: ['sn'], affected: 1 });
    expect(w.updated).toEqual([{ where: { id: 'n1', ownerId: ALICE }, values: { wifiName: 'office', sn: null } }]);
    expect(await w.writer.update(NoteEntity, ALICE, { id: 'n1' }, {})).toMatchObject({ affected: 0 });
    expect(w.updated).toHaveLength(1);
  });

  it('in a batch, judges each row by its own person; a row with nobody keeps no tagged value; complete() cannot bring one back', async () => {
    const w = world({ [ALICE]: ['fault_diagnostics'], [BOB]: [] });
    const outcomes = await w.writer.insertMany(
      NoteEntity,
      [
        { subjectId: ALICE, values: { id: 'a', sn: 'PX1-A', wifiName: 'home', label: 'a', at: AT } },
        { subjectId: BOB, values: { id: 'b', sn: 'PX1-B', label: 'b', at: AT } },
        { subjectId: null, values: { id: 'c', sn: 'PX1-C', label: 'c', at: AT } },
      ],
      { complete: ({ values }) => ({ ...values, sn: 'PX1-FORCED', label: `${values.label}!` }) },
    );
    expect(w.rows.map(({ id, ownerId, sn, wifiName, label }) => ({ id, ownerId, sn, wifiName, label }))).toEqual([
      { id: 'a', ownerId: ALICE, sn: 'PX1-FORCED', wifiName: null, label: 'a!' },
      { id: 'b', ownerId: BOB, sn: null, wifiName: undefined, label: 'b!' },
      { id: 'c', ownerId: null, sn: null, wifiName: undefined, label: 'c!' },
    ]);
    expect(outcomes.map((outcome) => outcome.dropped)).toEqual([['wifiName'], ['sn'], ['sn']]);
    expect(w.log.calls).toEqual([`lock shared ${ALICE},${BOB}`, `live ${ALICE},${BOB}`]);
  });

  it('with skipConflicts, says which rows went in (a key repeated or already stored does not)', async () => {
    const w = world({ [ALICE]: ['service'] });
    w.existingKeys.add('old');
    const outcomes = await w.writer.insertMany(
      NoteEntity,
      ['old', 'new', 'new'].map((id) => ({ subjectId: ALICE, values: { id, label: id, at: AT } })),
      { skipConflicts: true },
    );
    expect(outcomes.map((outcome) => outcome.inserted)).toEqual([false, true, false]);
  });

  it('refuses an entity with no tags: it has its own repository', async () => {
    const w = world({});
    await expect(w.writer.insert(UntaggedEntity, ALICE, {})).rejects.toThrow('UntaggedEntity has no @PersonalData columns');
  });
});
