import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/**
 * One registry per broker node (tests run several in one process, so never
 * the global default). Counts that only grow are Counters named `*_total`;
 * what goes up and down is a Gauge.
 */
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
  readonly throttled = new Counter({
    name: 'mqtt_auth_throttled_total',
    help: 'CONNECTs refused without a credential check because their username or source address failed too often (scope)',
    labelNames: ['scope'],
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
    countedFrom(this.registry, 'mqtt_auth_cache_hits_total', 'Device authentications answered from memory', sources.cacheHits);
    countedFrom(this.registry, 'mqtt_auth_cache_misses_total', 'Device authentications that needed the database', sources.cacheMisses);
    collectDefaultMetrics({ register: this.registry });
  }
}

/** A Counter that follows a running total kept elsewhere (the credential cache counts its own hits and misses). */
function countedFrom(registry: Registry, name: string, help: string, total: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = total();
      if (now > reported) this.inc(now - reported);
      reported = Math.max(reported, now);
    },
  });
}
