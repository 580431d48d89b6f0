import { describe, expect, it } from '@jest/globals';
import { BinaryCopyWriter, uuidBytes } from './copy-binary.js';

describe('BinaryCopyWriter', () => {
  it("writes PostgreSQL's binary COPY format: signature, rows of length-prefixed fields, trailer", () => {
    const body = new BinaryCopyWriter(8)
      .row(6)
      .int4(7)
      .timestamptz(Date.parse('2000-01-01T00:00:01.500Z'))
      .uuid(uuidBytes('00112233-4455-6677-8899-aabbccddeeff'))
      .float8(1.5)
      .text('é')
      .null()
      .finish();
    const expected = Buffer.concat([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0, 6]),
      Buffer.from([0, 0, 0, 4, 0, 0, 0, 7]),
      // 1,500,000 microseconds after PostgreSQL's epoch.
      Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0x16, 0xe3, 0x60]),
      Buffer.from([0, 0, 0, 16]),
      Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
      Buffer.from([0, 0, 0, 8, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0, 0, 0, 2, 0xc3, 0xa9]),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0xff, 0xff]),
    ]);
    expect(body.equals(expected)).toBe(true);
  });

  it('writes times before and long after 2000 exactly', () => {
    const read = (unixMs: number) => {
      const body = new BinaryCopyWriter().row(1).timestamptz(unixMs).finish();
      return Number(body.readBigInt64BE(11 + 8 + 2 + 4));
    };
    expect(read(Date.parse('1999-12-31T23:59:59.999Z'))).toBe(-1000);
    expect(read(Date.parse('2126-11-29T08:00:00.123Z'))).toBe(
      (Date.parse('2126-11-29T08:00:00.123Z') - Date.parse('2000-01-01T00:00:00Z')) * 1000,
    );
  });
});
