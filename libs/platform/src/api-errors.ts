import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from './domain-error.js';

/** The contract's error body, for OpenAPI pages. */
export class ErrorBodySchema {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Machine code of the contract' }) error!: string;
  @ApiProperty({ example: 'sn must be 4-64 characters of A-Z, a-z, 0-9, "-" or "_"', description: 'Human text' }) message!: string;
}

const DEFAULT_ERROR_TEXT: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'A field is missing, unknown or of the wrong shape (the message names it)',
  UNAUTHORIZED: 'No valid access token',
  FORBIDDEN: 'Not an admin',
  NOT_FOUND: 'No such resource',
  CONFLICT: 'Conflicts with the current state (the message says how)',
};

/**
 * One documented error answer per code, each with the contract's error body:
 * `@ApiErrors('VALIDATION_FAILED', ['NOT_FOUND', 'No such device among yours'])`
 * (a bare code takes a default text).
 */
export function ApiErrors(...errors: Array<ErrorCode | [ErrorCode, string]>): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, string[]>();
  for (const error of errors) {
    const code: ErrorCode = Array.isArray(error) ? error[0] : error;
    const text = Array.isArray(error) ? error[1] : (DEFAULT_ERROR_TEXT[error] ?? error);
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), `${code}: ${text}`]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, lines]) => ApiResponse({ status, type: ErrorBodySchema, description: lines.join('; ') })),
  );
}
