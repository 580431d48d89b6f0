import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import { PrivacyCatalog } from './catalog.js';
import { LawfulBasis } from './lawful-basis.js';
import { personalWriteScope } from './personal-data-guard.js';
import type { Purpose } from './purposes.js';
import { inTransaction, lockSubject } from './transaction.js';

export type EntityType<E> = new () => E;

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
  ) {}

  /** Only the fields the person's live purposes allow; does not write. */
  async permitted<E extends ObjectLiteral>(manager: EntityManager, entity: EntityType<E>, subjectId: string, values: Partial<E>): Promise<WriteOutcome<E>> {
    const table = this.tableOf(entity);
    const live = await this.basis.livePurposes(subjectId, manager);
    const out: Record<string, unknown> = { ...values };
    const dropped: Array<keyof E & string> = [];
    for (const column of table.columns) {
      const value = out[column.property];
      if (value === undefined || value === null) continue;
      if (!column.purposes.some((purpose) => live.has(purpose))) {
        out[column.property] = null;
        dropped.push(column.property as keyof E & string);
      }
    }
    const subjectValue = out[table.subject.property];
    if (subjectValue !== undefined && subjectValue !== subjectId) {
      throw new Error(`${table.table}: the row's ${table.subject.property} must be the data subject the write is made for`);
    }
    return { values: out as Partial<E>, dropped, live };
  }

  /** Inserts one row for `subjectId` (its @DataSubject column is set to it). */
  async insert<E extends ObjectLiteral>(entity: EntityType<E>, subjectId: string, values: Partial<E>, manager?: EntityManager): Promise<WriteOutcome<E>> {
    return inTransaction(this.dataSource, manager, async (tx) => {
      await lockSubject(tx, subjectId, 'shared');
      const outcome = await this.permitted(tx, entity, subjectId, { ...values, [this.tableOf(entity).subject.property]: subjectId });
      await personalWriteScope.run({ kind: 'writer' }, () => tx.insert(entity, outcome.values as Parameters<EntityManager['insert']>[1]));
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
      await lockSubject(tx, subjectId, 'shared');
      const outcome = await this.permitted(tx, entity, subjectId, values);
      const scoped = { ...where, [this.tableOf(entity).subject.property]: subjectId } as FindOptionsWhere<E>;
      if (Object.keys(outcome.values).length === 0) return { ...outcome, affected: 0 };
      const result = await personalWriteScope.run({ kind: 'writer' }, () => tx.update(entity, scoped, outcome.values as Parameters<EntityManager['update']>[2]));
      return { ...outcome, affected: result.affected ?? 0 };
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
