/**
 * Log redaction. Keys listed here are censored wherever they appear in a log
 * object; free text (messages, URLs, topics) is scrubbed of phone numbers,
 * MAC addresses, serial numbers in device paths and bearer tokens.
 */
export const REDACTED_KEYS = [
  'phone',
  'to',
  'code',
  'mac',
  'routerMac',
  'sn',
  'serial',
  'wifiName',
  'password',
  'secret',
  'deviceSecret',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'claimCode',
  'qr',
] as const;

const CENSOR = '[redacted]';
const E164 = /(?:\+|%2B)[1-9]\d{7,14}\b/gi;
const MAC = /\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b/g;
const DEVICE_PATH = /(devices\/)[^/?\s"]+/g;
const BEARER = /(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
/** Credentials carried in a query string, e.g. a firmware download's `?token=`. */
const QUERY_SECRET = /([?&](?:token|secret|password)=)[^&#\s"]+/gi;

export function redactText(text: string): string {
  return text
    .replace(BEARER, `$1${CENSOR}`)
    .replace(JWT, CENSOR)
    .replace(QUERY_SECRET, `$1${CENSOR}`)
    .replace(E164, CENSOR)
    .replace(MAC, CENSOR)
    .replace(DEVICE_PATH, `$1${CENSOR}`);
}

const redactedKeySet = new Set<string>(REDACTED_KEYS.map((key) => key.toLowerCase()));

/** Deep copy with sensitive keys censored and strings scrubbed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactError(value, depth);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = redactedKeySet.has(key.toLowerCase()) ? CENSOR : redactValue(child, depth + 1);
  }
  return out;
}

/**
 * What an error may tell the log besides its (scrubbed) message: codes that name
 * what went wrong without saying about whom, such as PostgreSQL's SQLSTATE
 * (`code` 23505) with the constraint, table and column involved, or a system
 * call's `code` (ECONNREFUSED). Fields that can quote row values (`detail`,
 * `where`, TypeORM's `parameters`) stay out.
 */
const ERROR_FIELDS = ['code', 'errno', 'syscall', 'severity', 'routine', 'schema', 'table', 'column', 'constraint', 'dataType', 'status'];

function redactError(error: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: redactText(error.message) };
  for (const field of ERROR_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === 'number') out[field] = value;
    else if (typeof value === 'string') out[field] = redactText(value);
  }
  if (error.stack) out.stack = redactText(error.stack);
  // TypeORM keeps the driver's error as driverError; others use the standard cause.
  const cause = (error as { driverError?: unknown }).driverError ?? error.cause;
  if (cause !== undefined && cause !== error) out.cause = redactValue(cause, depth + 1);
  return out;
}
