import type { PrivacyCatalog } from './catalog.js';

export const DATAMAP_START = '<!-- privacy:datamap:start -->';
export const DATAMAP_END = '<!-- privacy:datamap:end -->';

/** The record of processing as the code implements it: one Markdown row per tagged column. */
export function renderDatamap(catalog: PrivacyCatalog): string {
  const lines = ['| table | column | category | sensitivity | purposes | retention |', '| --- | --- | --- | --- | --- | --- |'];
  for (const table of catalog.tables) {
    for (const column of [...table.columns].sort((a, b) => a.column.localeCompare(b.column))) {
      const category = catalog.config.categories[column.category];
      const period =
        category.retention.kind === 'period' && column.retainFrom
          ? `${category.retention.text} after \`${column.retainFrom.column}\`, or when its purposes end`
          : 'until its purposes end (withdrawal, restriction, account deletion)';
      const retention = table.rowsErasedBy ? `${period}; rows deleted whole by \`${table.rowsErasedBy}\`` : period;
      lines.push(
        `| ${table.table} | ${column.column} | ${column.category} | ${category.sensitivity} | ${column.purposes.join(', ')} | ${retention} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The text between the datamap markers of a README, or undefined when the markers are missing. */
export function embeddedDatamap(readme: string): string | undefined {
  const start = readme.indexOf(DATAMAP_START);
  const end = readme.indexOf(DATAMAP_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + DATAMAP_START.length, end).replace(/^\n/, '');
}

export function replaceDatamap(readme: string, datamap: string): string {
  const start = readme.indexOf(DATAMAP_START);
  const end = readme.indexOf(DATAMAP_END);
  if (start < 0 || end < start) throw new Error(`README has no ${DATAMAP_START} ... ${DATAMAP_END} markers`);
  return `${readme.slice(0, start + DATAMAP_START.length)}\n${datamap}${readme.slice(end)}`;
}

export const DATAMAP_COMMAND = 'npm run privacy:datamap -- --write';
