import { Controller, Get, Global, Inject, Module, Res, type DynamicModule } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseDeviceTopic, refusalKind, type DeviceTopicKind } from '#libs/mqtt-contract';

/**
 * What provisioning and fault-feedback serve at /metrics (Prometheus text): HTTP
 * latency by route template (never the concrete path: it holds SNs and ids), device
 * messages handled, refused by reason, and failed. One registry per app: `npm start`
 * and the tests run several apps in one process.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    registers: [this.registry],
  });
  readonly messagesHandled = new Counter({
    name: 'mqtt_messages_handled_total',
    help: 'Device messages handled (stored, answered or refused), by topic',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly messagesRefused = new Counter({
    name: 'mqtt_messages_refused_total',
    help: 'Device messages refused, by topic and reason',
    labelNames: ['topic', 'reason'],
    registers: [this.registry],
  });
  readonly messagesFailed = new Counter({
    name: 'mqtt_messages_failed_total',
    help: 'Device messages whose handling failed; left unacknowledged, the broker delivers them again',
    labelNames: ['topic'],
    registers: [this.registry],
  });

  readonly messagesDeadLettered = new Counter({
    name: 'event_bus_messages_dead_lettered_total',
    help: 'Device messages moved to the dead-letter queue after repeated failures (or unreadable), by topic kind and reason',
    labelNames: ['topic', 'reason'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** For RabbitMqServer: how many of the group's partitions this replica works on, read at each scrape. */
  watchPartitions(active: () => number): void {
    new Gauge({
      name: 'event_bus_partitions_active',
      help: 'Event bus partitions this replica handled messages of in the last 5 seconds',
      registers: [this.registry],
      collect() {
        this.set(active());
      },
    });
  }

  /** A message of this topic refused for this reason (the reason is reduced to a fixed label). */
  refused(topic: DeviceTopicKind, reason: string): void {
    this.messagesRefused.inc({ topic, reason: refusalKind(reason) });
  }

  /** For ReliableMqttServer: a message of this concrete topic was handled, or its handler failed. */
  messageSettled(channel: string, outcome: 'handled' | 'failed'): void {
    const topic = parseDeviceTopic(channel)?.kind ?? 'other';
    (outcome === 'handled' ? this.messagesHandled : this.messagesFailed).inc({ topic });
  }

  /** For RabbitMqServer: a message was dead-lettered, `unreadable` (no device topic, no handler) or after repeated failures. */
  deadLettered(topic: string, reason: 'unreadable' | 'failed'): void {
    this.messagesDeadLettered.inc({ topic, reason });
  }

  /** Express middleware timing every request; the route is the matched template, `unmatched` for anything else. */
  readonly httpMiddleware = (request: Request, response: Response, next: NextFunction): void => {
    const end = this.httpDuration.startTimer();
    response.once('finish', () => {
      const route = request.route?.path;
      end({
        method: request.method,
        route: typeof route === 'string' ? `${request.baseUrl}${route}` : 'unmatched',
        status_code: String(response.statusCode),
      });
    });
    next();
  };
}

@ApiExcludeController()
@Controller('metrics')
class ServiceMetricsController {
  constructor(@Inject(ServiceMetrics) private readonly metrics: ServiceMetrics) {}

  @Get()
  async metricsText(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}

/** Serves /metrics and makes ServiceMetrics injectable in the app's handlers. */
@Global()
@Module({})
export class ServiceMetricsModule {
  static forRoot(metrics: ServiceMetrics): DynamicModule {
    return {
      module: ServiceMetricsModule,
      controllers: [ServiceMetricsController],
      providers: [{ provide: ServiceMetrics, useValue: metrics }],
      exports: [ServiceMetrics],
    };
  }
}
