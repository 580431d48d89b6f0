import { PURPOSES, type Purpose } from './purposes.js';
import { PersonalDataTagError, taggedTables, type TaggedColumn, type TaggedTable } from './personal-data.js';
import type { PrivacyConfig } from './privacy-config.js';

/**
 * The privacy configuration joined with the tags of the code: what the
 * process holds, for which purposes, for how long. Built once at boot; a tag
 * naming an unknown category or purpose, or a column erasure cannot clear,
 * stops the app with a message naming table.column.
 */
export class PrivacyCatalog {
  readonly tables: TaggedTable[];

  constructor(
    readonly config: PrivacyConfig,
    tables: TaggedTable[] = taggedTables(),
  ) {
    for (const table of tables) {
      for (const column of table.columns) validateColumn(config, column, table);
    }
    this.tables = tables;
  }

  /** The tables whose tagged columns the generic sweeps null (all but those whose rows a context's hook deletes whole). */
  get sweptTables(): TaggedTable[] {
    return this.tables.filter((table) => !table.rowsErasedBy);
  }

  get columns(): TaggedColumn[] {
    return this.tables.flatMap((table) => table.columns);
  }

  tableOf(entity: TaggedTable['entity']): TaggedTable | undefined {
    return this.tables.find((table) => table.entity === entity);
  }
}

function validateColumn(config: PrivacyConfig, column: TaggedColumn, table: TaggedTable): void {
  const name = `${column.table}.${column.column}`;
  const category = config.categories[column.category];
  if (!category) throw new PersonalDataTagError(`${name}: unknown category "${column.category}"; add it to config/privacy.yaml`);
  if (column.purposes.length === 0) throw new PersonalDataTagError(`${name}: name at least one purpose`);
  const unknown = column.purposes.find((purpose) => !(PURPOSES as readonly Purpose[]).includes(purpose));
  if (unknown) throw new PersonalDataTagError(`${name}: unknown purpose "${unknown}"`);
  if (!column.nullable && !table.rowsErasedBy)
    throw new PersonalDataTagError(`${name}: a personal-data column must be nullable, since erasure sets it to NULL`);
  if (category.retention.kind === 'period' && !column.retainFrom) {
    throw new PersonalDataTagError(
      `${name}: category ${column.category} is kept ${category.retention.text}; name the timestamp it counts from with retainFrom`,
    );
  }
}
