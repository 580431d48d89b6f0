/**
 * Machine codes of the public contract. Use-cases throw DomainError with one
 * of these; the HTTP exception filter is the one place that maps a code to a
 * status, and MQTT handlers map them to acks.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  POLICY_NOTICE_TOO_SHORT: 400,
  FIRMWARE_SIGNATURE_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  DEVICE_ALREADY_BOUND: 409,
  VERSION_CONFLICT: 409,
  PAIRING_EXPIRED: 410,
  FIRMWARE_JOB_ENDED: 410,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  UPSTREAM_FAILED: 502,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
