// Plumbing every app shares: structured redacted logging, the contract's error
// body, the validation pipe, health checks and the HTTP app bootstrap.
export { DomainError, ERROR_STATUS, type ErrorCode } from './domain-error.js';
export { REDACTED_KEYS, redactText, redactValue } from './redact.js';
export { createLogger, PinoNestLogger } from './logger.js';
export { ContractErrorFilter, type ErrorBody } from './error.filter.js';
export { ApiErrors, ErrorBodySchema } from './api-errors.js';
export { CONSUMER_HEALTH_CHECKS, HEALTH_CHECKS, HealthController, type HealthCheck } from './health.js';
export { listenOn, PortInUseError } from './listen.js';
export { startHttpApp, validationPipe, type HttpAppOptions, type RunningHttpApp } from './http-app.js';
export { brokerNodes, MqttLink, type MqttLinkOptions, type MqttPublishClient } from './mqtt-link.js';
export type { AppContext, RunningApp } from './app-context.js';
export { stopWhenNpmIsGone } from './npm-parent.js';
export { runStandalone } from './standalone.js';
export { ConsumerAlreadyRunningError, startServiceApp, type ServiceAppOptions } from './service-app.js';
export { ReliableMqttServer } from './reliable-mqtt.server.js';
export {
  checkFormat,
  formatMessage,
  FORMATS,
  IsE164,
  IsMac,
  IsSn,
  IsUuidFormat,
  matchesFormat,
  type Format,
  type FormatName,
} from './formats.js';
export { ModelParam, SnParam, UuidParam } from './pipes.js';
export { readDeviceMessage, type DeviceMessage } from './device-message.js';
export type { DeviceMessageSink, InProcessBroker, OutgoingDeviceMessage, ServicePublish } from './event-bus/device-message-sink.js';
export { InProcessConsumer, InProcessDeviceMessages, NoDeviceMessageConsumerError } from './event-bus/in-process.js';
export { OrderedByKey } from './ordered-by-key.js';
export { PeriodicTask } from './periodic-task.js';
export { RateLimit, RedisThrottlerStorage, type RateLimitName } from './rate-limit.js';
export { readCsv, writeCsv } from './csv.js';
export { ServiceMetrics } from './service-metrics.js';
export { Batcher, BatcherClosedError, isTransientDatabaseError, type BatcherOptions } from './batcher.js';
export { EventBusTopology, CONSUMER_GROUPS, FAILURE_HEADER, TOPIC_HEADER } from './event-bus/topology.js';
export { RabbitMqSink, EventBusUnavailableError } from './event-bus/rabbitmq-sink.js';
export { RabbitMqServer, type RabbitMqServerOptions } from './event-bus/rabbitmq.server.js';
