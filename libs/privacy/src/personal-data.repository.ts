import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { TaggedColumn, TaggedTable } from './personal-data.js';

export type EntityType<E> = new () => E;

/** Quotes an identifier taken from entity metadata. */
export function q(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/**
 * The storage of every tagged table, driven by the tags: the writes the
 * PersonalDataWriter has cleared, erasure of dead columns, retention, and the
 * per-person lock. Only privacy uses it; other contexts write through the writer.
 */
@Injectable()
export class PersonalDataRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Consent changes take a person's lock exclusively, personal-data writes
   * share it: a write can never slip in between a withdrawal's check and its
   * erasure. Held until the transaction ends.
   */
  async lockSubject(manager: EntityManager, subjectId: string, mode: 'exclusive' | 'shared'): Promise<void> {
    const fn = mode === 'exclusive' ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
    await manager.query(`SELECT ${fn}(hashtext($1))`, [`privacy-subject:${subjectId}`]);
  }

  /** The shared lock of many people at once (a batch of writes); in a fixed order, and shared only, so it cannot deadlock. */
  async lockSubjectsShared(manager: EntityManager, subjectIds: readonly string[]): Promise<void> {
    if (subjectIds.length === 0) return;
    await manager.query(`SELECT pg_advisory_xact_lock_shared(hashtext('privacy-subject:' || id)) FROM unnest($1::text[]) AS id`, [
      [...subjectIds].sort(),
    ]);
  }

  async insert<E extends ObjectLiteral>(manager: EntityManager, entity: EntityType<E>, values: Partial<E>): Promise<void> {
    await manager.insert(entity, values as Parameters<EntityManager['insert']>[1]);
  }

  async update<E extends ObjectLiteral>(
    manager: EntityManager,
    entity: EntityType<E>,
    where: FindOptionsWhere<E>,
    values: Partial<E>,
  ): Promise<number> {
    const result = await manager.update(entity, where, values as Parameters<EntityManager['update']>[2]);
    return result.affected ?? 0;
  }

  /**
   * One multi-row INSERT in plain SQL with values prepared by TypeORM's driver
   * (the query builder's parameter handling grows badly with thousands of
   * parameters). With `returning`, conflicts are skipped and the keys of the
   * rows that went in are answered.
   */
  async insertRows<E extends ObjectLiteral>(
    manager: EntityManager,
    entity: EntityType<E>,
    rows: ReadonlyArray<Partial<E>>,
    returning?: readonly ColumnMetadata[],
    upsert?: { conflict: readonly string[]; update: readonly string[]; newerBy?: string },
  ): Promise<Array<Record<string, unknown>>> {
    const metadata = manager.connection.getMetadata(entity);
    const driver = manager.connection.driver;
    const onConflict = upsert ? upsertClause(metadata.tableName, metadata.columns, upsert) : '';
    const columns = metadata.columns.filter((column) => rows.some((row) => row[column.propertyName as keyof E] !== undefined));
    const answer: Array<Record<string, unknown>> = [];
    // PostgreSQL takes at most 65,535 parameters per statement.
    const perStatement = Math.max(1, Math.floor(65_535 / Math.max(1, columns.length)));
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const parameters: unknown[] = [];
      const tuples = chunk.map((row) => {
        const placeholders = columns.map((column) => {
          const value = row[column.propertyName as keyof E];
          if (value === undefined) return 'DEFAULT';
          parameters.push(driver.preparePersistentValue(value, column));
          return `$${parameters.length}`;
        });
        return `(${placeholders.join(', ')})`;
      });
      const sql =
        `INSERT INTO ${q(metadata.tableName)} (${columns.map((column) => q(column.databaseName)).join(', ')}) VALUES ${tuples.join(', ')}` +
        (returning ? ` ON CONFLICT DO NOTHING RETURNING ${returning.map((column) => q(column.databaseName)).join(', ')}` : onConflict);
      const result = (await manager.query(sql, parameters)) as Array<Record<string, unknown>>;
      if (returning) answer.push(...result);
    }
    return answer;
  }

  /** The primary key of an entity: its columns, and one string per row to compare keys by. */
  primaryKeyOf(manager: EntityManager, entity: EntityType<unknown>) {
    const columns = manager.connection.getMetadata(entity).primaryColumns;
    const join = (parts: unknown[]) => JSON.stringify(parts.map((part) => String(part)));
    return {
      columns,
      fromRaw: (raw: Record<string, unknown>) => join(columns.map((column) => raw[column.databaseName])),
      fromValues: (values: ObjectLiteral) => join(columns.map((column) => values[column.propertyName])),
    };
  }

  /** Sets these columns to NULL on every row of the person that still holds one of them; answers how many rows changed. */
  async eraseColumnsOf(manager: EntityManager, table: TaggedTable, columns: readonly TaggedColumn[], subjectId: string): Promise<number> {
    if (columns.length === 0) return 0;
    const result = (await manager.query(
      `UPDATE ${q(table.table)} SET ${columns.map((column) => `${q(column.column)} = NULL`).join(', ')}
        WHERE ${q(table.subject.column)} = $1 AND (${columns.map((column) => `${q(column.column)} IS NOT NULL`).join(' OR ')})`,
      [subjectId],
    )) as [unknown[], number];
    return result[1] ?? 0;
  }

  /** Retention by period: NULL where the column's reference timestamp is older than `cutoff`. */
  async eraseOlderThan(table: TaggedTable, column: TaggedColumn & { retainFrom: NonNullable<TaggedColumn['retainFrom']> }, cutoff: Date) {
    const [, erased] = (await this.dataSource.query(
      `UPDATE ${q(table.table)} SET ${q(column.column)} = NULL WHERE ${q(column.column)} IS NOT NULL AND ${q(column.retainFrom.column)} < $1`,
      [cutoff],
    )) as [unknown, number];
    return erased;
  }

  /** The backstop sweep: NULL where none of the column's purposes is live for the row's person (privacy_is_live in SQL). */
  async eraseWithoutLivePurpose(table: TaggedTable, column: TaggedColumn): Promise<number> {
    const live = column.purposes.map((purpose) => `privacy_is_live(${q(table.subject.column)}, '${purpose}')`).join(' OR ');
    const [, swept] = (await this.dataSource.query(
      `UPDATE ${q(table.table)} SET ${q(column.column)} = NULL WHERE ${q(column.column)} IS NOT NULL AND NOT (${live})`,
    )) as [unknown, number];
    return swept;
  }
}

/** ` ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col, ... [WHERE stored time is older or NULL]`, from property names. */
function upsertClause(
  table: string,
  columns: readonly ColumnMetadata[],
  upsert: { conflict: readonly string[]; update: readonly string[]; newerBy?: string },
): string {
  const column = (property: string) => {
    const found = columns.find((candidate) => candidate.propertyName === property);
    if (!found) throw new Error(`${table}: ${property} is not a column`);
    return q(found.databaseName);
  };
  const set = upsert.update.map((property) => `${column(property)} = EXCLUDED.${column(property)}`).join(', ');
  const newer = upsert.newerBy
    ? ` WHERE ${q(table)}.${column(upsert.newerBy)} IS NULL OR ${q(table)}.${column(upsert.newerBy)} < EXCLUDED.${column(upsert.newerBy)}`
    : '';
  return ` ON CONFLICT (${upsert.conflict.map(column).join(', ')}) DO UPDATE SET ${set}${newer}`;
}
