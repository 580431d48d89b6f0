/**
 * Rows for PostgreSQL's binary COPY (`COPY ... FROM STDIN (FORMAT binary)`),
 * the cheapest way into a table on both sides: no text to escape here, none
 * to parse there. Only the column types telemetry_readings has.
 */
const SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch for timestamps, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 2 ** 32;

export class BinaryCopyWriter {
  private buffer: Buffer;
  private offset = 0;

  constructor(expectedBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, expectedBytes));
    this.bytes(SIGNATURE);
    this.int32(0); // flags
    this.int32(0); // header extension length
  }

  /** Starts a row of `fields` values. */
  row(fields: number): this {
    this.room(2);
    this.buffer.writeInt16BE(fields, this.offset);
    this.offset += 2;
    return this;
  }

  int4(value: number): this {
    this.int32(4);
    return this.int32(value);
  }

  float8(value: number): this {
    this.int32(8);
    this.room(8);
    this.buffer.writeDoubleBE(value, this.offset);
    this.offset += 8;
    return this;
  }

  bool(value: boolean): this {
    this.int32(1);
    this.room(1);
    this.buffer[this.offset] = value ? 1 : 0;
    this.offset += 1;
    return this;
  }

  /** A timestamptz from Unix milliseconds (whole milliseconds: readings carry no finer time). */
  timestamptz(unixMs: number): this {
    const micros = (unixMs - PG_EPOCH_MS) * 1000;
    const high = Math.floor(micros / TWO_32);
    this.int32(8);
    this.int32(high);
    this.room(4);
    this.buffer.writeUInt32BE(micros - high * TWO_32, this.offset);
    this.offset += 4;
    return this;
  }

  /** A uuid given as its 16 bytes. */
  uuid(bytes: Buffer): this {
    this.int32(16);
    return this.bytes(bytes);
  }

  text(value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    this.int32(length);
    this.room(length);
    this.buffer.write(value, this.offset, 'utf8');
    this.offset += length;
    return this;
  }

  null(): this {
    return this.int32(-1);
  }

  /** The whole COPY body, trailer included. */
  finish(): Buffer {
    this.room(2);
    this.buffer.writeInt16BE(-1, this.offset);
    this.offset += 2;
    return this.buffer.subarray(0, this.offset);
  }

  private int32(value: number): this {
    this.room(4);
    this.buffer.writeInt32BE(value, this.offset);
    this.offset += 4;
    return this;
  }

  private bytes(bytes: Buffer): this {
    this.room(bytes.length);
    bytes.copy(this.buffer, this.offset);
    this.offset += bytes.length;
    return this;
  }

  private room(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.offset + bytes));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}

/** The 16 bytes of a UUID in its text form. */
export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}
