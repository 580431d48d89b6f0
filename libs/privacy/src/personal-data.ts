import { getMetadataArgsStorage } from 'typeorm';
import type { Purpose } from './purposes.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityClass = Function;

export interface PersonalDataOptions {
  /** A category id from config/privacy.yaml (its description, sensitivity and retention apply). */
  category: string;
  /** The purposes the value is held for; it is kept while ANY of them is live for its data subject. */
  purposes: readonly Purpose[];
  /**
   * Property of a timestamp column that starts the category's retention
   * period (e.g. `endedAt` of a pairing). Required when the category's
   * retention is a period; a NULL reference means "not started yet".
   */
  retainFrom?: string;
}

interface RawTag {
  entity: EntityClass;
  property: string;
  options: PersonalDataOptions;
}

const tags: RawTag[] = [];
const subjects = new Map<EntityClass, { property: string; options: DataSubjectOptions }>();

export interface DataSubjectOptions {
  /**
   * The name of the @ErasureHook that deletes this table's rows WHOLE, for
   * account erasure, ended purposes and retention (e.g. time series, dropped
   * by partition). The generic per-column sweeps (NULL on withdrawal,
   * retention by period, the no-live-purpose backstop) then leave the table
   * to that hook: an UPDATE of every row's columns would rewrite a table of
   * millions of rows to keep rows that mean nothing without their values.
   * Its tagged columns need not be nullable, since no value is ever nulled.
   */
  rowsErasedBy?: string;
}

/**
 * Marks an entity column as personal data. Every tagged column must be
 * nullable: erasure sets it to NULL. The entity must also mark its data
 * subject column with @DataSubject().
 */
export function PersonalData(options: PersonalDataOptions): PropertyDecorator {
  return (target, property) => {
    tags.push({ entity: target.constructor, property: String(property), options: { ...options, purposes: [...options.purposes] } });
  };
}

/**
 * Marks the column holding the user id of the person the row's personal data
 * is about (the primary key for `users`, `owner_id` elsewhere). Writes,
 * erasure, retention and the proof test all find the person through it.
 */
export function DataSubject(options: DataSubjectOptions = {}): PropertyDecorator {
  return (target, property) => {
    subjects.set(target.constructor, { property: String(property), options: { ...options } });
  };
}

export interface ColumnRef {
  property: string;
  column: string;
}

export interface TaggedColumn {
  table: string;
  entity: EntityClass;
  property: string;
  column: string;
  nullable: boolean;
  category: string;
  purposes: Purpose[];
  retainFrom?: ColumnRef;
}

export interface TaggedTable {
  table: string;
  entity: EntityClass;
  subject: ColumnRef;
  /** True when the subject column is the row's primary key (the account row itself). */
  subjectIsKey: boolean;
  /** The erasure hook that deletes this table's rows whole (DataSubjectOptions.rowsErasedBy); the column sweeps skip the table. */
  rowsErasedBy?: string;
  columns: TaggedColumn[];
}

/** Thrown at boot for a tag that cannot work (names the table.column). */
export class PersonalDataTagError extends Error {
  override name = 'PersonalDataTagError';
}

/**
 * Every tagged table known to this process, resolved through TypeORM's
 * decorator metadata (no database needed, so CLIs can print the datamap).
 * A table appears here as soon as its entity module has been imported;
 * `only` limits the answer to some entities.
 */
export function taggedTables(only?: readonly EntityClass[]): TaggedTable[] {
  const storage = getMetadataArgsStorage();
  const byEntity = new Map<EntityClass, TaggedTable>();
  for (const tag of tags) {
    if (only && !only.includes(tag.entity)) continue;
    const tableArgs = storage.tables.find((table) => table.target === tag.entity);
    const entityName = (tag.entity as { name?: string }).name ?? 'entity';
    if (!tableArgs?.name)
      throw new PersonalDataTagError(`@PersonalData on ${entityName}.${tag.property}: the class needs @Entity('<table name>')`);
    const tableName = tableArgs.name;
    const resolveColumn = (property: string, what: string): ColumnRef & { nullable: boolean; primary: boolean } => {
      const column = storage.columns.find((candidate) => candidate.target === tag.entity && candidate.propertyName === property);
      if (!column) throw new PersonalDataTagError(`${tableName}.${property}: ${what} must be a TypeORM column of ${entityName}`);
      return {
        property,
        column: column.options.name ?? property,
        nullable: column.options.nullable === true,
        primary: column.options.primary === true,
      };
    };
    let table = byEntity.get(tag.entity);
    if (!table) {
      const marked = subjects.get(tag.entity);
      if (!marked) {
        throw new PersonalDataTagError(`${tableName}: an entity with @PersonalData columns needs @DataSubject() on its user-id column`);
      }
      const subject = resolveColumn(marked.property, '@DataSubject');
      table = {
        table: tableName,
        entity: tag.entity,
        subject: { property: subject.property, column: subject.column },
        subjectIsKey: subject.primary,
        ...(marked.options.rowsErasedBy ? { rowsErasedBy: marked.options.rowsErasedBy } : {}),
        columns: [],
      };
      byEntity.set(tag.entity, table);
    }
    const column = resolveColumn(tag.property, '@PersonalData');
    if (table.columns.some((existing) => existing.property === tag.property)) continue;
    table.columns.push({
      table: tableName,
      entity: tag.entity,
      property: tag.property,
      column: column.column,
      nullable: column.nullable,
      category: tag.options.category,
      purposes: [...tag.options.purposes],
      retainFrom: tag.options.retainFrom
        ? (({ property, column: name }) => ({ property, column: name }))(resolveColumn(tag.options.retainFrom, 'retainFrom'))
        : undefined,
    });
  }
  return [...byEntity.values()].sort((a, b) => a.table.localeCompare(b.table));
}
