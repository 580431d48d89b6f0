import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DomainError } from './domain-error.js';
import { readCsv, writeCsv } from './csv.js';

// Fields made of the characters that break naive CSV: separators, quotes, line ends, spaces, a BOM.
const field = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\n', '\r', ' ', ';', '\uFEFF', 'é', '水'), maxLength: 12 });
// A record whose fields are all blank is a blank line to the reader, skipped on purpose.
const record = fc.array(field, { minLength: 1, maxLength: 6 }).filter((fields) => fields.some((value) => value.trim() !== ''));

describe('CSV', () => {
  it('reads back exactly what it wrote, whatever the fields hold', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 8 }), (records) => {
        expect(readCsv(writeCsv(records))).toEqual(records);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads what spreadsheets write: a BOM, CRLF, quoted commas, quotes and line breaks, blank lines', () => {
    const text = '\uFEFFsn,model,note\r\nSN-1,"Purifier, ""X1""","two\r\nlines"\r\n\r\n   \r\nSN-2,Heater,\r\n';
    expect(readCsv(text)).toEqual([
      ['sn', 'model', 'note'],
      ['SN-1', 'Purifier, "X1"', 'two\r\nlines'],
      ['SN-2', 'Heater', ''],
    ]);
  });

  it('quotes only the fields that need it, one LF line per record', () => {
    expect(
      writeCsv([
        ['sn', 'model'],
        ['SN-1', 'Purifier, "X1"'],
        ['SN-2', 'a\nb'],
      ]),
    ).toBe('sn,model\nSN-1,"Purifier, ""X1"""\nSN-2,"a\nb"\n');
  });

  it('refuses malformed text as VALIDATION_FAILED, saying where', () => {
    expect(() => readCsv('sn,model\nSN-1,"open quote\n')).toThrow(DomainError);
    expect(() => readCsv('sn,model\nSN-1,"open quote\n')).toThrow(/not well formed.*line/i);
  });
});
