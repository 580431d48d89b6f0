import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import type { Packet } from 'mqtt-packet';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '#libs/database';
import { CredentialCache, CredentialHasher, PresenceRecorder, sqlCredentialLoader } from '#libs/devices';
import {
  canPublish,
  canSubscribe,
  decodePayload,
  DeviceCredentialsChangedPayload,
  grantedQos,
  internalTopics,
  isValidSn,
  topics,
  type MqttIdentity,
} from '#libs/mqtt-contract';
import { listenOn, startHttpApp, type AppContext, type RunningApp } from '#libs/platform';
import { BrokerMetrics } from './broker-metrics.js';
import { BrokerHttpModule } from './broker.module.js';
import { ServiceAccountDirectory } from './service-accounts.js';

const enum ReturnCode {
  IdentifierRejected = 2,
  ServerUnavailable = 3,
  BadUsernameOrPassword = 4,
  NotAuthorized = 5,
}

type AuthFailure =
  'anonymous' | 'client_id_mismatch' | 'unknown_or_revoked' | 'bad_secret' | 'bad_service_password' | 'unavailable' | 'internal';

/** Starts one broker node: MQTT over TCP (and TLS when configured) plus its HTTP side (/health, /metrics, /docs). */
export async function startBroker(context: AppContext): Promise<RunningApp> {
  const { logger } = context;
  const log = logger.child({ app: 'broker' });
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => log.error({ err: error }, 'broker cleanup step failed'));
  };
  try {
    return await start(context, log, cleanups, cleanup);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function start(
  context: AppContext,
  log: Logger,
  cleanups: Array<() => Promise<void>>,
  cleanup: () => Promise<void>,
): Promise<RunningApp> {
  const { config } = context;
  const dataSource = new DataSource(dataSourceOptions(context.databaseUrl, [], config.database.logQueries));
  await dataSource.initialize();
  cleanups.push(() => dataSource.destroy());
  const query = (sql: string, params: unknown[]) => dataSource.query(sql, params);

  const accounts = new ServiceAccountDirectory(config);
  const hasher = new CredentialHasher(config.devices.secretKey);
  const cache = new CredentialCache(sqlCredentialLoader(query), {
    ttlMs: config.mqtt.authCacheTtlSeconds * 1000,
    maxEntries: config.mqtt.authCacheMaxEntries,
  });
  const presence = new PresenceRecorder(query, config.mqtt.presenceFlushMs, (error) =>
    log.warn({ err: error }, 'presence write failed; retrying'),
  );
  presence.start();
  cleanups.push(() => presence.stop());

  const identities = new WeakMap<Client, MqttIdentity>();
  let broker!: Aedes;
  const metrics = new BrokerMetrics({
    connectedClients: () => (broker?.closed === false ? broker.connectedClients : 0),
    cacheEntries: () => cache.size,
    cacheHits: () => cache.hits,
    cacheMisses: () => cache.misses,
  });
  let pendingAcks = 0;

  const refuse = (reason: AuthFailure, code: ReturnCode, done: (error: AuthenticateError | null, success: boolean | null) => void) => {
    metrics.authFailures.inc({ reason });
    log.info({ reason }, 'MQTT connect refused');
    done(Object.assign(new Error(`connect refused: ${reason}`), { returnCode: code }) as unknown as AuthenticateError, false);
  };

  const scaleOut = await scaleOutOptions(config.redis.url, log);
  cleanups.push(scaleOut.close);

  const options: AedesOptions = {
    ...scaleOut.options,
    maxClientsIdLength: 128,
    // Aedes hooks are callbacks on the hot path: nothing here throws, and the only I/O is the cache's batched load.
    authenticate: (client, username, password, done) => {
      try {
        if (!username || !password) return refuse('anonymous', ReturnCode.NotAuthorized, done);
        if (accounts.has(username)) {
          accounts.verify(username, password, client.id).then(
            (identity) => {
              if (!identity) return refuse('bad_service_password', ReturnCode.BadUsernameOrPassword, done);
              identities.set(client, identity);
              done(null, true);
            },
            () => refuse('internal', ReturnCode.ServerUnavailable, done),
          );
          return;
        }
        if (client.id !== username) return refuse('client_id_mismatch', ReturnCode.IdentifierRejected, done);
        if (!isValidSn(username)) return refuse('unknown_or_revoked', ReturnCode.BadUsernameOrPassword, done);
        cache.lookup(username).then(
          (storedHash) => {
            if (storedHash === null) return refuse('unknown_or_revoked', ReturnCode.BadUsernameOrPassword, done);
            if (!hasher.matches(password, storedHash)) return refuse('bad_secret', ReturnCode.BadUsernameOrPassword, done);
            const identity: MqttIdentity = { kind: 'device', sn: username };
            identities.set(client, identity);
            clampRequestedQos(client, identity);
            done(null, true);
          },
          (error: unknown) => {
            log.error({ err: error }, 'device credentials could not be read');
            refuse('unavailable', ReturnCode.ServerUnavailable, done);
          },
        );
      } catch (error) {
        log.error({ err: error }, 'authenticate failed');
        refuse('internal', ReturnCode.ServerUnavailable, done);
      }
    },
    authorizePublish: (client, packet, done) => {
      try {
        // A null client is the broker re-publishing a will of a client gone elsewhere; wills were checked when set.
        if (!client) return done(null);
        const identity = identities.get(client);
        if (!identity) return done(new Error('not authenticated'));
        const size = packet.payload ? Buffer.byteLength(packet.payload as Buffer | string) : 0;
        if (size > config.mqtt.maxPayloadBytes) {
          metrics.dropped.inc({ reason: 'too_large' });
          log.warn({ topic: packet.topic, size }, 'MQTT publish refused: payload too large');
          return done(new Error('payload too large'));
        }
        const decision = canPublish(identity, packet.topic);
        if (!decision.allowed) {
          metrics.dropped.inc({ reason: decision.reason });
          log.warn({ topic: packet.topic, reason: decision.reason }, 'MQTT publish refused by ACL');
          return done(new Error(`publish refused: ${decision.reason}`));
        }
        metrics.messagesIn.inc();
        if (identity.kind === 'device') presence.seen(identity.sn);
        done(null);
      } catch (error) {
        log.error({ err: error }, 'authorizePublish failed');
        done(new Error('internal error'));
      }
    },
    authorizeSubscribe: (client, subscription, done) => {
      try {
        const identity = identities.get(client);
        if (!identity) return done(new Error('not authenticated'));
        const decision = canSubscribe(identity, subscription.topic);
        if (!decision.allowed) {
          metrics.subscriptionsRefused.inc({ reason: decision.reason });
          log.warn({ topic: subscription.topic, reason: decision.reason }, 'MQTT subscription refused by ACL');
          return done(null, null);
        }
        done(null, { ...subscription, qos: grantedQos(identity, subscription.qos) });
      } catch (error) {
        log.error({ err: error }, 'authorizeSubscribe failed');
        done(null, null);
      }
    },
    authorizeForward: (client, packet) => {
      const identity = identities.get(client);
      if (!identity) return null;
      if (identity.kind === 'device' && !packet.topic.startsWith(`devices/${identity.sn}/`)) return null;
      metrics.messagesOut.inc();
      if (packet.qos > 0) pendingAcks += 1;
      return packet;
    },
  };
  broker = await Aedes.createBroker(options);
  let brokerClosed = false;
  const closeBroker = () =>
    brokerClosed ? Promise.resolve() : new Promise<void>((resolve) => ((brokerClosed = true), broker.close(() => resolve())));
  cleanups.push(async () => {
    await closeBroker();
    await scaleOut.destroyPersistence(broker);
  });

  broker.on('clientReady', (client) => {
    const identity = identities.get(client);
    metrics.connects.inc({ kind: identity?.kind ?? 'unknown' });
    if (identity?.kind === 'device') presence.seen(identity.sn, true);
  });
  broker.on('ping', (_packet, client) => {
    const identity = identities.get(client);
    if (identity?.kind === 'device') presence.seen(identity.sn, true);
  });
  broker.on('ack', () => {
    if (pendingAcks > 0) pendingAcks -= 1;
  });
  broker.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== 'device') return;
    // Taken over by a newer connection of the same device on this node: it is not offline.
    if (clientsOf(broker)[identity.sn] && clientsOf(broker)[identity.sn] !== client) return;
    presence.seen(identity.sn, false);
    if (broker.closed) return;
    broker.publish(
      {
        cmd: 'publish',
        topic: topics.status(identity.sn),
        payload: Buffer.from(JSON.stringify({ online: false })),
        qos: 1,
        retain: true,
        dup: false,
      },
      (error) => error && log.warn({ err: error }, 'offline status not published'),
    );
  });
  broker.on('clientError', (_client, error) => {
    metrics.clientErrors.inc();
    log.debug({ err: error }, 'MQTT client error');
  });
  broker.on('connectionError', (_client, error) => {
    metrics.clientErrors.inc();
    log.debug({ err: error }, 'MQTT connection error');
  });

  // Credential changes arrive on the broker-internal topic from provisioning, on whichever node it is connected to;
  // the shared emitter brings them to every node, and the node holding the device's connection closes it.
  await new Promise<void>((resolve) =>
    broker.subscribe(
      internalTopics.deviceCredentials,
      (packet, done) => {
        try {
          const decoded = decodePayload(DeviceCredentialsChangedPayload, packet.payload as Buffer);
          if (!decoded.ok) {
            log.warn({ reason: decoded.reason }, 'ignored malformed credentials notice');
            return done();
          }
          const { sn } = decoded.value;
          cache.invalidate(sn);
          const client = clientsOf(broker)[sn];
          if (client && identities.get(client)?.kind === 'device') {
            metrics.credentialDrops.inc();
            log.info({ change: decoded.value.change }, 'closing a device connection after a credentials change');
            client.close();
          }
        } catch (error) {
          log.error({ err: error }, 'credentials notice failed');
        }
        done();
      },
      resolve,
    ),
  );

  const mqttServer: Server = createServer(broker.handle);
  const mqttPort = await listenOn(mqttServer, config.ports.mqtt, config.host, 'MQTT_PORT');
  cleanups.push(() => closeServer(mqttServer));
  mqttServer.on('error', (error) => log.error({ err: error }, 'MQTT listener error'));
  log.info({ port: mqttPort }, `broker MQTT listening on mqtt://${config.host}:${mqttPort}`);

  const ports: Record<string, number> = { mqtt: mqttPort };
  let tlsServer: Server | undefined;
  if (config.mqtt.tls.cert && config.mqtt.tls.key) {
    const server = createTlsServer({ cert: readFileSync(config.mqtt.tls.cert), key: readFileSync(config.mqtt.tls.key) }, broker.handle);
    server.on('tlsClientError', () => metrics.clientErrors.inc());
    ports.mqtts = await listenOn(server, config.ports.mqtts, config.host, 'MQTTS_PORT');
    tlsServer = server;
    cleanups.push(() => closeServer(server));
    log.info({ port: ports.mqtts }, `broker MQTTS listening on mqtts://${config.host}:${ports.mqtts}`);
  }

  const mqttListener = { name: 'mqtt', isUp: async () => mqttServer.listening && !broker.closed };
  const http = await startHttpApp(BrokerHttpModule.forRoot(config, dataSource, mqttListener, metrics), {
    name: 'broker',
    title: 'Broker',
    port: config.ports.brokerHttp,
    host: config.host,
    portVariable: 'BROKER_HTTP_PORT',
    logger: context.logger,
  });
  cleanups.push(() => http.close());
  ports.http = http.port;

  let stopping: Promise<void> | undefined;
  return {
    name: 'broker',
    ports,
    /**
     * Graceful: stop accepting connections, give in-flight QoS 1 deliveries
     * (and messages still on their way through the emitter) up to
     * mqtt.shutdownGraceMs to be acknowledged, then close clients, the
     * emitter and persistence, flush presence, and close the database.
     */
    stop() {
      stopping ??= (async () => {
        mqttServer.close();
        tlsServer?.close();
        const deadline = Date.now() + config.mqtt.shutdownGraceMs;
        const emitter = broker as unknown as { mq: { current?: number } };
        while (Date.now() < deadline && (pendingAcks > 0 || (emitter.mq.current ?? 0) > 0)) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await cleanup();
      })();
      return stopping;
    },
  };
}

/** Aedes keeps its local connections by clientId; its type declarations leave the map out. */
function clientsOf(broker: Aedes): Record<string, Client | undefined> {
  return (broker as unknown as { clients: Record<string, Client | undefined> }).clients;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

interface ScaleOut {
  options: Pick<AedesOptions, 'mq' | 'persistence'>;
  destroyPersistence(broker: Aedes): Promise<void>;
  close(): Promise<void>;
}

/** With REDIS_URL: a shared emitter and persistence, so nodes share subscriptions, sessions and retained messages. */
async function scaleOutOptions(redisUrl: string, log: Logger): Promise<ScaleOut> {
  if (!redisUrl) {
    return {
      options: {},
      destroyPersistence: async (broker) => {
        const persistence = (broker as unknown as { persistence?: { destroy?: () => Promise<void> } }).persistence;
        await persistence?.destroy?.();
      },
      close: async () => undefined,
    };
  }
  const { default: mqemitterRedis } = await import('mqemitter-redis');
  const { default: RedisPersistence } = await import('aedes-persistence-redis/asyncPersistence.js');
  const mq = mqemitterRedis({ connectionString: redisUrl });
  mq.state.on('error', (error: unknown) => log.warn({ err: error }, 'Redis emitter error'));
  const conn = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  conn.on('error', (error) => log.warn({ err: error }, 'Redis persistence error'));
  const persistence = new RedisPersistence({ conn });
  // Aedes 1.2 pipes the retained-message source, while this persistence hands back an async generator: adapt it.
  const retainedSource = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => {
    const source = retainedSource(patterns);
    return 'pipe' in source ? source : Readable.from(source);
  };
  let destroyed = false;
  return {
    options: { mq, persistence },
    destroyPersistence: async () => {
      if (destroyed) return;
      destroyed = true;
      await persistence.destroy().catch(() => undefined);
    },
    close: async () => {
      if (conn.status !== 'end') conn.disconnect();
    },
  };
}

/**
 * Aedes fixes a subscription's granted QoS (the SUBACK, and what a persistent
 * session stores) from the request before authorizeSubscribe runs, so a QoS
 * the hook lowers is still echoed back. Lowering the request as it is parsed
 * makes SUBACK, session and delivery agree with mqtt-contract's grantedQos.
 */
function clampRequestedQos(client: Client, identity: MqttIdentity): void {
  const parser = (client as unknown as { _parser?: { prependListener(event: 'packet', listener: (packet: Packet) => void): void } })
    ._parser;
  parser?.prependListener('packet', (packet) => {
    if (packet.cmd !== 'subscribe') return;
    for (const subscription of packet.subscriptions) subscription.qos = grantedQos(identity, subscription.qos);
  });
}
