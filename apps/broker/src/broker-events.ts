import type { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { BrokerMetrics } from './broker-metrics.js';
import type { ClientIdentities } from './client-identities.js';
import type { InflightDeliveries } from './drain.js';

/** What the broker's events feed: the connect and error counters, and the drain's count of unacknowledged deliveries. */
export function observeBrokerEvents(
  broker: Aedes,
  deps: { identities: ClientIdentities; metrics: BrokerMetrics; inflight: InflightDeliveries; log: Logger },
): void {
  const { identities, metrics, inflight, log } = deps;
  broker.on('clientReady', (client) => metrics.connects.inc({ kind: identities.get(client)?.kind ?? 'unknown' }));
  broker.on('ack', () => inflight.acknowledged());
  broker.on('clientError', (_client, error) => {
    metrics.clientErrors.inc();
    log.debug({ err: error }, 'MQTT client error');
  });
  broker.on('connectionError', (_client, error) => {
    metrics.clientErrors.inc();
    log.debug({ err: error }, 'MQTT connection error');
  });
}
