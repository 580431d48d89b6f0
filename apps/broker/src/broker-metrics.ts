import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** One registry per broker node (tests run several in one process, so never the global default). */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly connects = new Counter({
    name: 'mqtt_connects_total',
    help: 'Accepted MQTT connections',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'mqtt_auth_failures_total',
    help: 'Refused CONNECTs by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly messagesIn = new Counter({
    name: 'mqtt_messages_in_total',
    help: 'PUBLISH packets accepted from clients',
    registers: [this.registry],
  });
  readonly messagesOut = new Counter({
    name: 'mqtt_messages_out_total',
    help: 'PUBLISH packets delivered to clients',
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'mqtt_messages_dropped_total',
    help: 'PUBLISH packets refused (ACL, size), by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly subscriptionsRefused = new Counter({
    name: 'mqtt_subscriptions_refused_total',
    help: 'SUBSCRIBE filters refused by the ACL, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly clientErrors = new Counter({
    name: 'mqtt_client_errors_total',
    help: 'Malformed packets and other protocol errors that closed a connection',
    registers: [this.registry],
  });
  readonly credentialDrops = new Counter({
    name: 'mqtt_credential_disconnects_total',
    help: 'Open device connections closed because their secret was rotated or revoked',
    registers: [this.registry],
  });

  constructor(sources: { connectedClients(): number; cacheEntries(): number; cacheHits(): number; cacheMisses(): number }) {
    new Gauge({
      name: 'mqtt_connected_clients',
      help: 'Clients connected to this node',
      registers: [this.registry],
      collect() {
        this.set(sources.connectedClients());
      },
    });
    new Gauge({
      name: 'mqtt_auth_cache_entries',
      help: 'Device credential hashes held in memory',
      registers: [this.registry],
      collect() {
        this.set(sources.cacheEntries());
      },
    });
    new Gauge({
      name: 'mqtt_auth_cache_hits',
      help: 'Device authentications answered from memory since start',
      registers: [this.registry],
      collect() {
        this.set(sources.cacheHits());
      },
    });
    new Gauge({
      name: 'mqtt_auth_cache_misses',
      help: 'Device authentications that needed the database since start',
      registers: [this.registry],
      collect() {
        this.set(sources.cacheMisses());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}
