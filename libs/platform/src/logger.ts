import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { REDACTED_KEYS, redactText, redactValue } from './redact.js';

/**
 * Structured JSON logs (pino). Every argument passes through redaction, so a
 * phone number, MAC, SN or token never reaches the log, whoever logs it.
 */
export function createLogger(level: string, name?: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    name,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
    },
    // Errors arrive here already made plain by redactValue (message scrubbed, codes kept); pino's own
    // error serializer would rebuild them from that object and lose the type and the cause.
    serializers: { err: (value: unknown) => value },
    // Child-logger bindings skip logMethod; censor sensitive keys there too.
    redact: { paths: REDACTED_KEYS.map((key) => key), censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? redactText(arg) : redactValue(arg)));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  return pino(options, destination ?? pino.destination(1));
}

/** Adapts pino to Nest's LoggerService so framework messages share the format and redaction. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  // Framework chatter (module wiring, route mapping) is debug; our own code logs what matters at info.
  log(message: unknown, context?: string) {
    this.write('debug', message, context);
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, stringify(message));
  }
  warn(message: unknown, context?: string) {
    // The three apps of `npm start` share one process, each with its own default
    // data source in its own container; this registry is process-wide, so its
    // "name already registered" warning does not apply here.
    this.write(context === 'DataSourceNameRegistry' ? 'debug' : 'warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string) {
    this.write('fatal', message, context);
  }
  private write(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string) {
    if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, stringify(message));
  }
}

function stringify(message: unknown): string {
  return typeof message === 'string' ? message : JSON.stringify(message);
}
