import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Parses and validates a JSON payload against its contract class. Unknown
 * fields are refused, as on the HTTP side. Never throws.
 */
export function decodePayload<T extends object>(type: ClassConstructor<T>, payload: Buffer | string): Decoded<T> {
  let plain: unknown;
  try {
    plain = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { ok: false, reason: 'payload must be a JSON object' };
  const value = plainToInstance(type, plain);
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  if (errors.length > 0) {
    const reasons = errors.flatMap(function collect(error): string[] {
      return [...Object.values(error.constraints ?? {}), ...(error.children ?? []).flatMap(collect)];
    });
    return { ok: false, reason: reasons.join('; ') || 'invalid payload' };
  }
  return { ok: true, value };
}
