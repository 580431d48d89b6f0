import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import { PrivacyCatalog } from './catalog.js';
import { LawfulBasis } from './lawful-basis.js';
import { personalWriteScope } from './personal-data-guard.js';
import { PersonalDataRepository, type EntityType } from './personal-data.repository.js';
import type { Purpose } from './purposes.js';
import type { TaggedTable } from './personal-data.js';
import { inTransaction } from './transaction.js';

export type { EntityType } from './personal-data.repository.js';

/** insertMany's ON CONFLICT DO UPDATE: properties of the conflict key, the properties to overwrite, and the time that must be newer. */
export interface Upsert<E> {
  conflict: ReadonlyArray<keyof E & string>;
  update: ReadonlyArray<keyof E & string>;
  newerBy?: keyof E & string;
}

export interface WriteOutcome<E> {
  /** The values as written: tagged fields without a live purpose are null. */
  values: Partial<E>;
  /** Properties that were dropped because none of their purposes is live. */
  dropped: Array<keyof E & string>;
  live: ReadonlySet<Purpose>;
}

/**
 * The one way to write personal data. Every method needs the data subject:
 * before writing, each tagged field whose purposes have no live basis for
 * that person is replaced by null, and the row is tied to that person (the
 * @DataSubject column is set, and updates only match that person's rows).
 * It runs under the subject's shared lock, so a concurrent withdrawal either
 * sees this row (and erases it) or this write sees the withdrawal.
 */
@Injectable()
export class PersonalDataWriter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly catalog: PrivacyCatalog,
    private readonly basis: LawfulBasis,
    private readonly storage: PersonalDataRepository,
  ) {}

  /** Only the fields the person's live purposes allow; does not write. */
  async permitted<E extends ObjectLiteral>(
    manager: EntityManager,
    entity: EntityType<E>,
    subjectId: string,
    values: Partial<E>,
  ): Promise<WriteOutcome<E>> {
    const table = this.tableOf(entity);
    return keepLive<E>(table, subjectId, values, await this.basis.livePurposes(subjectId, manager));
  }

  /** Inserts one row for `subjectId` (its @DataSubject column is set to it). */
  async insert<E extends ObjectLiteral>(
    entity: EntityType<E>,
    subjectId: string,
    values: Partial<E>,
    manager?: EntityManager,
  ): Promise<WriteOutcome<E>> {
    return inTransaction(this.dataSource, manager, async (tx) => {
      await this.storage.lockSubject(tx, subjectId, 'shared');
      const outcome = await this.permitted(tx, entity, subjectId, { ...values, [this.tableOf(entity).subject.property]: subjectId });
      await personalWriteScope.run({ kind: 'writer' }, () => this.storage.insert(tx, entity, outcome.values));
      return outcome;
    });
  }

  /** Updates the rows of `subjectId` matching `where`; never touches another person's rows. */
  async update<E extends ObjectLiteral>(
    entity: EntityType<E>,
    subjectId: string,
    where: FindOptionsWhere<E>,
    values: Partial<E>,
    manager?: EntityManager,
  ): Promise<WriteOutcome<E> & { affected: number }> {
    return inTransaction(this.dataSource, manager, async (tx) => {
      await this.storage.lockSubject(tx, subjectId, 'shared');
      const outcome = await this.permitted(tx, entity, subjectId, values);
      const scoped = { ...where, [this.tableOf(entity).subject.property]: subjectId } as FindOptionsWhere<E>;
      if (Object.keys(outcome.values).length === 0) return { ...outcome, affected: 0 };
      const affected = await personalWriteScope.run({ kind: 'writer' }, () => this.storage.update(tx, entity, scoped, outcome.values));
      return { ...outcome, affected };
    });
  }

  /**
   * Inserts many rows, for many people, in one statement: each row is checked
   * against the live purposes of its own subject, as insert() does. A row
   * with no subject (e.g. a report from a device nobody owns) keeps no tagged
   * value at all. `complete` finishes a row once its permitted values are
   * known (mark it de-identified, cut a time to the day); a tagged value it
   * sets is checked again, so it cannot bring a dropped one back.
   * With `skipConflicts` a row clashing with a unique key is skipped (ON
   * CONFLICT DO NOTHING) and answers `inserted: false`; rows must then carry
   * their primary key, and a key repeated in the batch goes in once (first wins).
   * With `upsert` a row clashing on its `conflict` columns overwrites the
   * `update` columns of the stored row instead (ON CONFLICT DO UPDATE), only
   * where the stored `newerBy` value is older or NULL when that is given; a
   * conflict key must not repeat within the batch.
   * With `store` the judged rows are handed to the caller's own bulk statement
   * (COPY, INSERT ... SELECT FROM unnest) instead of this writer's INSERT,
   * still under the subjects' shared locks and inside the write scope; what
   * that statement derives from the rows (a time series' rollups, for the
   * same subject and purposes) follows their judgement, and `live` tells it
   * each subject's purposes for decisions taken in the same transaction.
   */
  async insertMany<E extends ObjectLiteral>(
    entity: EntityType<E>,
    rows: ReadonlyArray<{ subjectId: string | null; values: Partial<E> }>,
    options: {
      skipConflicts?: boolean;
      upsert?: Upsert<E>;
      complete?: (outcome: WriteOutcome<E>, index: number) => Partial<E>;
      store?: (manager: EntityManager, outcomes: ReadonlyArray<WriteOutcome<E>>) => Promise<void>;
    } = {},
    manager?: EntityManager,
  ): Promise<Array<WriteOutcome<E> & { inserted: boolean }>> {
    if (rows.length === 0) return [];
    const table = this.tableOf(entity);
    return inTransaction(this.dataSource, manager, async (tx) => {
      const subjects = [...new Set(rows.flatMap((row) => (row.subjectId ? [row.subjectId] : [])))];
      await this.storage.lockSubjectsShared(tx, subjects);
      const liveBySubject = await this.basis.livePurposesOfMany(subjects, tx);
      const outcomes = rows.map((row, index) => {
        const live = (row.subjectId && liveBySubject.get(row.subjectId)) || new Set<Purpose>();
        const first = keepLive<E>(table, row.subjectId, { ...row.values, [table.subject.property]: row.subjectId }, live);
        if (!options.complete) return first;
        const completed = keepLive<E>(table, row.subjectId, options.complete(first, index), live);
        return { ...completed, dropped: [...new Set([...first.dropped, ...completed.dropped])] };
      });
      if (options.store) {
        const store = options.store;
        await personalWriteScope.run({ kind: 'writer' }, () => store(tx, outcomes));
        return outcomes.map((outcome) => ({ ...outcome, inserted: true }));
      }
      const keyOf = this.storage.primaryKeyOf(tx, entity);
      const raw = await this.storage.insertRows(
        tx,
        entity,
        outcomes.map((outcome) => outcome.values),
        options.skipConflicts ? keyOf.columns : undefined,
        options.upsert,
      );
      if (!options.skipConflicts) return outcomes.map((outcome) => ({ ...outcome, inserted: true }));
      const insertedKeys = new Set(raw.map((row) => keyOf.fromRaw(row)));
      return outcomes.map((outcome) => {
        const key = keyOf.fromValues(outcome.values);
        const inserted = insertedKeys.delete(key);
        return { ...outcome, inserted };
      });
    });
  }

  /**
   * Runs the insert that creates an account row (the entity whose
   * @DataSubject is its primary key). Creating it is what starts the
   * `service` contract, so its `service` values pass; nothing else does.
   */
  creatingSubject<T>(insert: () => Promise<T>): Promise<T> {
    return personalWriteScope.run({ kind: 'creating-subject' }, insert);
  }

  private tableOf(entity: EntityType<unknown>) {
    const table = this.catalog.tableOf(entity);
    if (!table) throw new Error(`${entity.name} has no @PersonalData columns; write it with its own repository`);
    return table;
  }
}

/**
 * The rule itself: a tagged value none of whose purposes is live for the
 * subject becomes null. The row's @DataSubject value, when given, must be
 * that subject; the link itself may be tagged, and dropping it de-identifies
 * the row.
 */
function keepLive<E extends ObjectLiteral>(
  table: TaggedTable,
  subjectId: string | null,
  values: Partial<E>,
  live: ReadonlySet<Purpose>,
): WriteOutcome<E> {
  const out: Record<string, unknown> = { ...values };
  const subjectValue = out[table.subject.property];
  // null is no link at all (e.g. a tagged link the rule already dropped), never someone else's.
  if (subjectValue !== undefined && subjectValue !== null && subjectValue !== subjectId) {
    throw new Error(`${table.table}: the row's ${table.subject.property} must be the data subject the write is made for`);
  }
  const dropped: Array<keyof E & string> = [];
  for (const column of table.columns) {
    const value = out[column.property];
    if (value === undefined || value === null) continue;
    if (!column.purposes.some((purpose) => live.has(purpose))) {
      out[column.property] = null;
      dropped.push(column.property as keyof E & string);
    }
  }
  return { values: out as Partial<E>, dropped, live };
}
