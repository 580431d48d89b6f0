import { BadRequestException, ValidationPipe, type DynamicModule, type INestApplication } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { AppConfig } from '#libs/config';
import { exceedsJsonDepth, PAYLOAD_LIMITS } from '#libs/mqtt-contract';
import { ContractErrorFilter } from './error.filter.js';
import { listenOn } from './listen.js';
import { PinoNestLogger } from './logger.js';
import { rateLimitGuard } from './rate-limit.js';
import { redactText } from './redact.js';
import { securityHeaders } from './security-headers.js';
import type { ServiceMetrics } from './service-metrics.js';

export interface HttpAppOptions {
  name: string;
  title: string;
  port: number;
  host: string;
  /** The environment variable that sets this port, named when the port is taken. */
  portVariable: string;
  logger: Logger;
  /** A message consumer (MQTT) served by the same app, started after the HTTP side is ready. */
  microservice?: CustomTransportStrategy;
  /** Set to answer browsers (CORS): pages from the API's own host name, e.g. the console, plus these origins. */
  corsOrigins?: string[];
  /** Times every request into this app's /metrics. */
  metrics?: ServiceMetrics;
}

export interface RunningHttpApp {
  app: INestApplication;
  port: number;
  close(): Promise<void>;
}

/** Validation failures answer 400 VALIDATION_FAILED with every reason in the message. */
export const validationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  exceptionFactory: (errors) =>
    new BadRequestException(
      errors
        .flatMap(function reasons(error): string[] {
          return [...Object.values(error.constraints ?? {}), ...(error.children ?? []).flatMap(reasons)];
        })
        .map((reason) => reason.replace(/^property (\S+) should not exist$/, 'unknown field $1'))
        .join('; ') || 'Invalid request',
    ),
});

/**
 * Every HTTP app is built here, so each gets the same validation, error body,
 * redacted request logs and OpenAPI page at /docs.
 */
export async function startHttpApp(module: DynamicModule, options: HttpAppOptions): Promise<RunningHttpApp> {
  const { logger } = options;
  const app = await NestFactory.create<NestExpressApplication>(module, {
    logger: new PinoNestLogger(logger.child({ app: options.name })),
    bodyParser: true,
    abortOnError: false,
  });
  if (options.metrics) app.use(options.metrics.httpMiddleware);
  const config = appConfigOf(app);
  // Behind a load balancer the client's address (per-address limits, logs) comes from X-Forwarded-For, and only from the proxies named here.
  app.set('trust proxy', trustProxySetting(config?.http.trustProxy ?? ''));
  app.use(securityHeaders(config));
  const maxJsonDepth = config?.http.maxJsonDepth ?? PAYLOAD_LIMITS.maxDepth;
  // `verify` is left out of Nest's option type (it sets one itself only with rawBody, which these apps do not use).
  const jsonOptions = { limit: '1mb', verify: (_request: unknown, _response: unknown, body: Buffer) => refuseDeepJson(body, maxJsonDepth) };
  app.useBodyParser('json', jsonOptions);
  app.use(
    pinoHttp({
      logger: logger.child({ app: options.name }),
      quietReqLogger: true,
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: redactText(req.url) }),
        res: (res: { statusCode: number | null; raw?: { statusCode: number } }) => ({ statusCode: res.raw?.statusCode ?? res.statusCode }),
      },
    }),
  );
  if (options.corsOrigins) app.enableCors(corsFor(options.corsOrigins));
  const rateLimits = config ? await rateLimitGuard(config, logger.child({ app: options.name })) : undefined;
  if (rateLimits) app.useGlobalGuards(rateLimits.guard);
  app.useGlobalPipes(validationPipe);
  app.useGlobalFilters(new ContractErrorFilter(logger.child({ app: options.name })));
  if (docsServed(config)) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder().setTitle(options.title).setVersion('1').addBearerAuth().build(),
    );
    SwaggerModule.setup('docs', app, document);
  }
  // The HTTP pipe and error filter stay out of message handlers: a refused HTTP
  // body is a 400, but a bad MQTT payload must be acknowledged with `rejected`,
  // and a failed handler must leave its message unacknowledged (see ReliableMqttServer).
  if (options.microservice) app.connectMicroservice({ strategy: options.microservice }, { inheritAppConfig: false });
  await app.init();
  if (options.microservice) await app.startAllMicroservices();
  const server = app.getHttpServer() as Server;
  keepIdleConnectionsOpen(server);
  const port = await listenOn(server, options.port, options.host, options.portVariable);
  logger.info({ app: options.name, port }, `${options.name} listening on http://${options.host}:${port}`);
  return {
    app,
    port,
    async close() {
      await app.close();
      await rateLimits?.close();
    },
  };
}

/** How long an idle keep-alive connection stays open: longer than a balancer's or a client pool's idle timeout (60 s is usual). */
const KEEP_ALIVE_MS = 65_000;

/**
 * Node closes an idle keep-alive connection after 5 s. A proxy or client pool
 * that keeps idle connections longer (HAProxy, nginx upstream keepalive, a
 * cloud balancer at 60 s, or a client whose event loop runs late) can send a
 * request on one just as the server closes it, and its caller sees a reset
 * (a 502 behind a proxy) for a request that never arrived. Kept open longer
 * than they are, it is they that close an idle connection, never the server
 * mid-send; the Keep-Alive header says so to clients that read it.
 */
function keepIdleConnectionsOpen(server: Server): void {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // Must exceed keepAliveTimeout, or a slow first header on a reused connection is cut instead.
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
}

/** The app's own configuration, when its module provides one (every app's does, through ConfigModule). */
function appConfigOf(app: INestApplication): AppConfig | undefined {
  try {
    return app.get(AppConfig, { strict: false });
  } catch {
    return undefined;
  }
}

/** Express's value for http.trustProxy: false (nobody), a hop count, or the list of proxy addresses as given. */
export function trustProxySetting(value: string): boolean | number | string {
  if (value === '') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** /docs is served unless switched off, or NODE_ENV=production and not switched on. */
export function docsServed(config: AppConfig | undefined): boolean {
  if (!config) return true;
  return config.http.docs === 'on' || (config.http.docs === 'auto' && config.env !== 'production');
}

/** Thrown from the JSON parser's verify step: a 400 before JSON.parse, the validation pipe or class-transformer see the body. */
export class BodyTooDeepError extends Error {
  readonly status = 400;
  readonly expose = true;
  readonly type = 'entity.too.deep';
}

function refuseDeepJson(body: Buffer, maxDepth: number): void {
  if (exceedsJsonDepth(body, maxDepth)) throw new BodyTooDeepError(`Request body is nested deeper than ${maxDepth} levels`);
}

/**
 * The console on fault-feedback's port signs in on provisioning's port: same
 * host name, other origin. Bearer tokens, no cookies, so no credentials mode.
 */
export function corsFor(extraOrigins: string[]) {
  return (
    req: { headers: Record<string, string | string[] | undefined> },
    callback: (error: Error | null, options: { origin: boolean; maxAge: number }) => void,
  ) => {
    callback(null, { origin: isAllowedOrigin(req.headers.origin, req.headers.host, extraOrigins), maxAge: 600 });
  };
}

export function isAllowedOrigin(origin: unknown, host: unknown, extraOrigins: string[]): boolean {
  if (typeof origin !== 'string' || typeof host !== 'string') return false;
  if (extraOrigins.includes(origin)) return true;
  try {
    return new URL(origin).hostname === new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
}
