import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { DomainError, ERROR_STATUS, type ErrorCode } from './domain-error.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'PAIRING_EXPIRED',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  503: 'UNAVAILABLE',
};

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/** The one place that turns any failure into the contract's `{statusCode, error, message}` body. */
@Catch()
export class ContractErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error({ err: exception }, 'request failed');
    response.status(body.statusCode).json(body);
  }

  toBody(exception: unknown): ErrorBody {
    if (exception instanceof DomainError) {
      return { statusCode: ERROR_STATUS[exception.code], error: exception.code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const response = exception.getResponse();
      const raw = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
      const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : exception.message;
      return { statusCode, error: CODE_BY_STATUS[statusCode] ?? `HTTP_${statusCode}`, message };
    }
    const parserError = exception as { type?: string; status?: number; expose?: boolean; message?: string };
    if (parserError?.type === 'entity.parse.failed') {
      return { statusCode: 400, error: 'VALIDATION_FAILED', message: 'Request body is not valid JSON' };
    }
    if (parserError?.type === 'entity.too.large') {
      return { statusCode: 413, error: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' };
    }
    // The body parsers' other refusals (a body nested too deep, an unsupported charset or encoding, an aborted upload) are the client's.
    const status = parserError?.status;
    if (typeof parserError?.type === 'string' && parserError.expose && typeof status === 'number' && status >= 400 && status < 500) {
      return { statusCode: status, error: CODE_BY_STATUS[status] ?? `HTTP_${status}`, message: parserError.message ?? 'Bad request body' };
    }
    return { statusCode: 500, error: 'INTERNAL_ERROR', message: 'Something went wrong on our side' };
  }
}
