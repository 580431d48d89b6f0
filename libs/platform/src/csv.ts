import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { DomainError } from './domain-error.js';

/**
 * Every CSV the product reads (factory batches, labels, pairing tokens) goes
 * through csv-parse: RFC 4180 quoting (fields holding commas, quotes as "" and
 * line breaks), LF or CRLF, a leading byte-order mark dropped, blank lines
 * skipped. Malformed text is a VALIDATION_FAILED saying where.
 */
export function readCsv(text: string): string[][] {
  try {
    return parse(text, { bom: true, skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true }) as string[][];
  } catch (error) {
    if (error instanceof CsvError) throw new DomainError('VALIDATION_FAILED', `The CSV is not well formed: ${error.message}`);
    throw error;
  }
}

/** And every CSV it writes, through csv-stringify: quoted where a field needs it, one LF-terminated line per record. */
export function writeCsv(rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  // A field starting with U+FEFF is quoted, or at the start of the text a reader would drop it as a byte-order mark.
  return stringify(rows as unknown[][], { quoted_match: /^\uFEFF/ });
}
