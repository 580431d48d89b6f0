import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationTypes, type ValidationArguments } from 'class-validator';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Contract payloads are a few levels deep and a few KiB; anything far beyond is refused before it is parsed. */
export const PAYLOAD_LIMITS = { maxBytes: 65_536, maxDepth: 32 } as const;

export interface DecodeLimits {
  maxBytes?: number;
  maxDepth?: number;
}

/**
 * Parses and validates a JSON payload against its contract class. Unknown
 * fields are refused, as on the HTTP side. Never throws.
 *
 * The rules are the class's class-validator decorators, always. Payloads
 * arrive at device rate (a fault report per message), where class-transformer
 * plus validateSync cost about a fifth of fault-feedback's throughput, so a
 * class whose decorators are all plain synchronous checks is compiled once
 * into a direct walk over the same constraint objects, with the same messages
 * in the same order; anything else (and any payload shape the walk does not
 * cover, like an array where a nested object is declared) goes through
 * class-transformer and validateSync. decode.spec.ts holds both paths to the
 * same answers on random payloads.
 */
export function decodePayload<T extends object>(
  type: ClassConstructor<T>,
  payload: Buffer | string,
  limits: DecodeLimits = {},
): Decoded<T> {
  const maxBytes = limits.maxBytes ?? PAYLOAD_LIMITS.maxBytes;
  const maxDepth = limits.maxDepth ?? PAYLOAD_LIMITS.maxDepth;
  if (Buffer.byteLength(payload) > maxBytes) return { ok: false, reason: `payload exceeds ${maxBytes} bytes` };
  if (exceedsJsonDepth(payload, maxDepth)) return { ok: false, reason: `payload is nested deeper than ${maxDepth} levels` };
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  let plain: unknown;
  try {
    plain = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { ok: false, reason: 'payload must be a JSON object' };
  // class-transformer treats these keys specially at any depth; such payloads take its path.
  const compiled = text.includes('"constructor"') || text.includes('"__proto__"') ? null : compiledFor(type);
  const fast = compiled && walk(compiled, plain as Record<string, unknown>);
  if (fast) return fast.length > 0 ? { ok: false, reason: fast.join('; ') } : { ok: true, value: plain as T };
  return decodeWithClassValidator(type, plain);
}

/**
 * Whether JSON text opens more than `maxDepth` arrays or objects inside each
 * other (brackets inside strings do not count). One pass over the bytes, no
 * parse: deep input costs the parser, class-transformer and class-validator a
 * recursion each, so it is refused here first (HTTP bodies too).
 */
export function exceedsJsonDepth(json: Buffer | string, maxDepth: number): boolean {
  const code = typeof json === 'string' ? (index: number) => json.charCodeAt(index) : (index: number) => json[index];
  let depth = 0;
  let inString = false;
  for (let index = 0; index < json.length; index += 1) {
    const char = code(index);
    if (inString) {
      if (char === 0x5c)
        index += 1; // backslash: the next character is escaped
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return false;
}

/**
 * decodePayload for a value already parsed from JSON (an element of a
 * payload's array, judged on its own): the same rules, the same messages.
 */
export function decodeObject<T extends object>(type: ClassConstructor<T>, plain: unknown): Decoded<T> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { ok: false, reason: 'must be a JSON object' };
  const compiled = hasSpecialKey(plain) ? null : compiledFor(type);
  const fast = compiled && walk(compiled, plain as Record<string, unknown>);
  if (fast) return fast.length > 0 ? { ok: false, reason: fast.join('; ') } : { ok: true, value: plain as T };
  return decodeWithClassValidator(type, plain);
}

/** Does `value` hold, at any depth, a key class-transformer treats specially (as the text check of decodePayload looks for)? */
function hasSpecialKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasSpecialKey);
  for (const key of Object.keys(value)) {
    if (key === 'constructor' || key === '__proto__' || hasSpecialKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** Refusal reasons as a short label for metrics: a few fixed values, never the payload's own words. */
export type RefusalKind = 'too_large' | 'too_deep' | 'not_json' | 'not_object' | 'future_time' | 'unknown_device' | 'invalid';

export function refusalKind(reason: string): RefusalKind {
  if (/exceeds \d+ bytes/.test(reason)) return 'too_large';
  if (reason.includes('nested deeper than')) return 'too_deep';
  if (reason === 'payload is not JSON') return 'not_json';
  if (reason === 'payload must be a JSON object') return 'not_object';
  if (reason.includes('in the future')) return 'future_time';
  if (reason === 'unknown device') return 'unknown_device';
  return 'invalid';
}

/** The reference path: class-transformer, then class-validator's validateSync. */
export function decodeWithClassValidator<T extends object>(type: ClassConstructor<T>, plain: object): Decoded<T> {
  let value: T;
  let errors: ReturnType<typeof validateSync>;
  try {
    value = plainToInstance(type, plain);
    errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  } catch {
    // class-transformer throws on some shapes (e.g. a nested {"constructor": ...}): refused, never a crash.
    return { ok: false, reason: 'payload has a shape that cannot be read' };
  }
  if (errors.length > 0) {
    const reasons = errors.flatMap(function collect(error): string[] {
      return [...Object.values(error.constraints ?? {}), ...(error.children ?? []).flatMap(collect)];
    });
    return { ok: false, reason: reasons.join('; ') || 'invalid payload' };
  }
  return { ok: true, value };
}

interface Constraint {
  name: string;
  instance: { validate(value: unknown, args: ValidationArguments): unknown; defaultMessage?(args: ValidationArguments): string };
}

interface CompiledProperty {
  name: string;
  /** All must hold for the property to be validated at all (IsOptional, ValidateIf). */
  conditions: Array<(object: object, value: unknown) => boolean>;
  checks: Array<{ constraints: unknown[]; message: string | undefined; constraint: Constraint }>;
  /** ValidateNested: the declared class of the nested object. */
  nested?: CompiledClass;
}

interface CompiledClass {
  type: ClassConstructor<object>;
  properties: CompiledProperty[];
  known: Set<string>;
}

const compiledClasses = new Map<ClassConstructor<object>, CompiledClass | null>();

function compiledFor(type: ClassConstructor<object>): CompiledClass | null {
  if (!compiledClasses.has(type)) compiledClasses.set(type, compile(type, new Set()));
  return compiledClasses.get(type)!;
}

/** Null when the class uses anything beyond plain synchronous checks, conditions and nested objects. */
function compile(type: ClassConstructor<object>, seen: Set<ClassConstructor<object>>): CompiledClass | null {
  if (seen.has(type)) return null;
  seen.add(type);
  const storage = getMetadataStorage();
  const byProperty = new Map<string, CompiledProperty>();
  for (const metadata of storage.getTargetValidationMetadatas(type, '', true, false)) {
    if (
      metadata.each ||
      metadata.always ||
      metadata.groups?.length ||
      metadata.context ||
      metadata.validateIf ||
      typeof metadata.message === 'function'
    )
      return null;
    let property = byProperty.get(metadata.propertyName);
    if (!property) byProperty.set(metadata.propertyName, (property = { name: metadata.propertyName, conditions: [], checks: [] }));
    switch (metadata.type) {
      case ValidationTypes.CUSTOM_VALIDATION: {
        const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls) as unknown as Constraint[];
        if (constraints.some((constraint) => (constraint as unknown as { async?: boolean }).async)) return null;
        for (const constraint of constraints)
          property.checks.push({ constraints: metadata.constraints, message: metadata.message as string | undefined, constraint });
        break;
      }
      case ValidationTypes.CONDITIONAL_VALIDATION:
        property.conditions.push(metadata.constraints[0] as (object: object, value: unknown) => boolean);
        break;
      case ValidationTypes.NESTED_VALIDATION: {
        const declared = Reflect.getMetadata('design:type', type.prototype, metadata.propertyName) as ClassConstructor<object> | undefined;
        const nested = declared && declared !== Object && declared !== Array ? compile(declared, new Set(seen)) : null;
        if (!nested) return null;
        property.nested = nested;
        break;
      }
      default:
        return null;
    }
  }
  const properties = [...byProperty.values()];
  return { type, properties, known: new Set(properties.map((property) => property.name)) };
}

/**
 * The reasons for refusing `object` (empty when it is valid), or null when it
 * takes a shape this walk leaves to class-validator. Gives `object` (and its
 * nested objects) the class's prototype, as class-transformer would.
 */
function walk(compiled: CompiledClass, object: Record<string, unknown>): string[] | null {
  const reasons: string[] = [];
  for (const key of Object.keys(object)) {
    if (!compiled.known.has(key)) reasons.push(`property ${key} should not exist`);
  }
  Object.setPrototypeOf(object, compiled.type.prototype);
  for (const property of compiled.properties) {
    const value = object[property.name];
    if (!property.conditions.every((condition) => condition(object, value))) continue;
    const args: ValidationArguments = { targetName: compiled.type.name, property: property.name, object, value, constraints: [] };
    for (const check of property.checks) {
      args.constraints = check.constraints;
      if (!check.constraint.instance.validate(value, args)) {
        reasons.push(messageOf(check.message ?? check.constraint.instance.defaultMessage?.(args) ?? '', args));
      }
    }
    if (property.nested && value !== undefined) {
      if (Array.isArray(value) || (value instanceof Object && Object.getPrototypeOf(value) !== Object.prototype)) return null;
      if (value instanceof Object) {
        const nested = walk(property.nested, value as Record<string, unknown>);
        if (!nested) return null;
        reasons.push(...nested);
      } else {
        reasons.push(`nested property ${property.name} must be either object or array`);
      }
    }
  }
  return reasons;
}

/** class-validator's replacement of $constraintN, $value, $property and $target in a message. */
function messageOf(message: string, args: ValidationArguments): string {
  let text = message;
  (Array.isArray(args.constraints) ? args.constraints : []).forEach((constraint: unknown, index: number) => {
    const shown = Array.isArray(constraint)
      ? constraint.join(', ')
      : typeof constraint === 'symbol'
        ? String(constraint.description)
        : `${constraint}`;
    text = text.replace(new RegExp(`\\$constraint${index + 1}`, 'g'), shown);
  });
  if (args.value !== undefined && args.value !== null && ['string', 'boolean', 'number'].includes(typeof args.value)) {
    text = text.replace(/\$value/g, String(args.value));
  }
  return text.replace(/\$property/g, args.property).replace(/\$target/g, args.targetName);
}
