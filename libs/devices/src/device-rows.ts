import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsOptional, IsString, Length, Matches, validateSync } from 'class-validator';
import { DomainError, IsMac, IsSn, readCsv } from '#libs/platform';

const PRINTABLE = /^[\x20-\x7E]+$/;

/** One device of a factory batch, as JSON or as a CSV row with header `sn,mac,model,firmware`. */
export class RegisterDeviceDto {
  @IsSn() sn!: string;
  @IsMac() mac!: string;
  @IsString() @Length(1, 64) @Matches(PRINTABLE, { message: 'model must be printable ASCII' }) model!: string;
  @IsOptional() @IsString() @Length(1, 32) @Matches(PRINTABLE, { message: 'firmware must be printable ASCII' }) firmware?: string;
}

export interface DeviceRow {
  sn: string;
  mac: string;
  model: string;
  firmware: string | null;
}

export const CSV_COLUMNS = ['sn', 'mac', 'model', 'firmware'] as const;
const REQUIRED_COLUMNS = ['sn', 'mac', 'model'];
const MAX_REPORTED_ERRORS = 20;

/** `aa-bb-cc-dd-ee-ff`, `aabbccddeeff` → `AA:BB:CC:DD:EE:FF`. */
export function normaliseMac(mac: string): string {
  const hex = mac.replace(/[:-]/g, '').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/**
 * Validates a batch; every problem is reported with where it is (JSON item
 * index, or CSV line with the header as line 1) and nothing is registered
 * when any row is bad.
 */
export function validateDeviceRows(input: unknown, origin: 'json' | 'csv' = 'json'): DeviceRow[] {
  if (!Array.isArray(input)) throw new DomainError('VALIDATION_FAILED', 'Expected a JSON array of devices or a CSV file');
  if (input.length === 0) throw new DomainError('VALIDATION_FAILED', 'The batch holds no devices');
  const errors: string[] = [];
  const rows: DeviceRow[] = [];
  input.forEach((item, index) => {
    const where = origin === 'json' ? `item ${index}` : `line ${index + 2}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push(`${where}: must be an object`);
      return;
    }
    const dto = plainToInstance(RegisterDeviceDto, item);
    const problems = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (problems.length > 0) {
      const reasons = problems.flatMap((problem) =>
        Object.values(problem.constraints ?? {}).map((reason) => reason.replace(/^property (\S+) should not exist$/, 'unknown field $1')),
      );
      errors.push(`${where}: ${reasons.join('; ')}`);
      return;
    }
    rows.push({ sn: dto.sn, mac: normaliseMac(dto.mac), model: dto.model, firmware: dto.firmware ?? null });
  });
  if (errors.length > 0) {
    const shown = errors.slice(0, MAX_REPORTED_ERRORS).join(' | ');
    const more = errors.length > MAX_REPORTED_ERRORS ? ` | and ${errors.length - MAX_REPORTED_ERRORS} more` : '';
    throw new DomainError('VALIDATION_FAILED', `${errors.length} invalid device row(s): ${shown}${more}`);
  }
  return rows;
}

/** Reads CSV text with a header naming sn, mac, model and optionally firmware (any order). */
export function parseDevicesCsv(text: string): Array<Record<string, string>> {
  const records = readCsv(text);
  if (records.length === 0) throw new DomainError('VALIDATION_FAILED', 'The CSV is empty');
  const header = records[0].map((name) => name.trim().toLowerCase());
  const unknown = header.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name));
  const missing = REQUIRED_COLUMNS.filter((name) => !header.includes(name));
  if (unknown.length > 0 || missing.length > 0) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `CSV header must be ${CSV_COLUMNS.join(',')} (firmware optional)` +
        (missing.length ? `; missing: ${missing.join(', ')}` : '') +
        (unknown.length ? `; unknown: ${unknown.join(', ')}` : ''),
    );
  }
  return records.slice(1).map((fields, index) => {
    if (fields.length !== header.length) {
      throw new DomainError('VALIDATION_FAILED', `line ${index + 2}: expected ${header.length} fields, found ${fields.length}`);
    }
    const row: Record<string, string> = {};
    header.forEach((name, column) => {
      const value = fields[column].trim();
      if (value !== '' || name !== 'firmware') row[name] = value;
    });
    return row;
  });
}
