import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import type { CredentialCache, CredentialHasher, PresenceRecorder } from '#libs/devices';
import { canPublish, canReceive, canSubscribe, grantedQos, type AclDecision, type MqttIdentity } from '#libs/mqtt-contract';
import type { DeviceMessageSink } from '#libs/platform';
import { deliverAfterConnack, lowerRequestedQos } from './aedes-workarounds.js';
import { addressKey, type AuthThrottle } from './auth-throttle.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { ClientIdentities } from './client-identities.js';
import {
  CONNACK,
  decideConnect,
  isFailedGuess,
  type AccountLookup,
  type ConnackRefusalCode,
  type ConnectDecision,
  type ConnectRequest,
} from './connect-decision.js';
import type { InflightDeliveries } from './drain.js';
import { exceedsPayloadLimit, payloadBytes } from './payload-limit.js';
import type { ServiceAccountDirectory } from './service-accounts.js';

export interface HookDependencies {
  maxPayloadBytes: number;
  accounts: ServiceAccountDirectory;
  credentials: CredentialCache;
  hasher: CredentialHasher;
  throttle: AuthThrottle;
  identities: ClientIdentities;
  presence: PresenceRecorder;
  inflight: InflightDeliveries;
  metrics: BrokerMetrics;
  log: Logger;
  /** Where the device messages services consume go (RabbitMQ with EVENT_BUS_URL, else the services of this process under `npm start`); a QoS 1 PUBACK waits for it. */
  sink?: DeviceMessageSink;
}

type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;
type AuthenticateDone = Parameters<Hooks['authenticate']>[3];

/** Guessing at a built-in service's name must not cut the services off: they are counted by address only. */
const throttledUsername = (configured: ConnectRequest['configured'], username: string | undefined) =>
  configured === 'service' ? undefined : username || undefined;

/**
 * The source address as the throttle counts it. Read only when needed (a block to check, a failure to
 * count): a socket keeps its peer address once asked, and a storm of good CONNECTs has no use for it.
 */
const addressOf = (client: Client) => addressKey('remoteAddress' in client.conn ? client.conn.remoteAddress : undefined);

/**
 * The Aedes hooks. Each one asks the rules (connect-decision.ts, the ACL of
 * libs/mqtt-contract, payload-limit.ts, auth-throttle.ts), counts and logs the
 * answer, and hands it to Aedes. They run on the hot path as callbacks:
 * nothing here throws, and the only I/O is the credential cache's batched
 * load and the throttle's count of a failure.
 */
export function aedesHooks(deps: HookDependencies): Hooks {
  const { accounts, credentials, hasher, throttle, identities, presence, inflight, metrics, log, sink } = deps;
  const checkPublish = publishCheck(deps);
  const lowerQos = (client: Client, requested: 0 | 1 | 2) => {
    const identity = identities.get(client);
    return identity ? grantedQos(identity, requested) : requested;
  };

  /** Looks the account up and hands the lookup to `then`; never rejects. One promise hop: this runs for every CONNECT. */
  const lookUp = (
    request: ConnectRequest,
    kind: 'device' | 'configured',
    password: Buffer,
    then: (lookup: AccountLookup) => void,
  ): void => {
    if (kind === 'configured') {
      accounts.verify(request.username!, password, request.clientId).then(
        (identity) => then({ account: 'configured', identity }),
        (error: unknown) => {
          log.error({ err: error }, 'password check failed');
          then({ account: 'failed', reason: 'internal' });
        },
      );
      return;
    }
    // A device's clientId is its username (the decision checked): key the cache by the string the connection keeps anyway.
    credentials.lookup(request.clientId).then(
      (storedHash) =>
        then(
          storedHash === null
            ? { account: 'device', found: false }
            : { account: 'device', found: true, secretMatches: hasher.matches(password, storedHash) },
        ),
      (error: unknown) => {
        log.error({ err: error }, 'device credentials could not be read');
        then({ account: 'failed', reason: 'unavailable' });
      },
    );
  };

  /** Hands a final decision to Aedes: the identity on acceptance; on refusal the counters, the log, the throttle. */
  const settle = (client: Client, request: ConnectRequest, decision: ConnectDecision, done: AuthenticateDone) => {
    try {
      if ('accept' in decision) {
        identities.set(client, decision.identity);
        if (decision.accept === 'device') lowerRequestedQos(client, lowerQos);
        deliverAfterConnack(client);
        return done(null, true);
      }
      const refusal = 'refuse' in decision ? decision : { refuse: 'internal' as const, code: CONNACK.serverUnavailable };
      metrics.authFailures.inc({ reason: refusal.refuse });
      log.info({ reason: refusal.refuse }, 'MQTT connect refused');
      if (isFailedGuess(refusal.refuse)) {
        throttle
          .recordFailure(throttledUsername(request.configured, request.username), addressOf(client))
          .catch((error: unknown) => log.warn({ err: error }, 'failed CONNECT not counted'));
      }
      done(authenticateError(refusal.code, `connect refused: ${refusal.refuse}`), false);
    } catch (error) {
      log.error({ err: error }, 'authenticate failed');
    }
  };

  const authenticate: Hooks['authenticate'] = (client, username, password, done) => {
    let request: ConnectRequest | undefined;
    try {
      const configured = accounts.kindOf(username);
      const address = throttle.addressesBlocked ? addressOf(client) : undefined;
      const throttled = throttle.blocked(throttledUsername(configured, username), address);
      if (throttled) metrics.throttled.inc({ scope: throttled });
      request = { clientId: client.id, username, hasPassword: Boolean(password), configured, throttled: !!throttled };
      const first = decideConnect(request);
      if (!('lookup' in first)) return settle(client, request, first, done);
      const asked = request;
      lookUp(asked, first.lookup, password!, (lookup) => settle(client, asked, decideConnect(asked, lookup), done));
    } catch (error) {
      log.error({ err: error }, 'authenticate failed');
      if (request) settle(client, request, { refuse: 'internal', code: CONNACK.serverUnavailable }, done);
      else done(authenticateError(CONNACK.serverUnavailable, 'connect refused: internal'), false);
    }
  };

  const authorizePublish: Hooks['authorizePublish'] = (client, packet, done) => {
    try {
      // A null client is the broker re-publishing a will of a client gone elsewhere; wills were checked when set.
      if (!client) return done(null);
      const identity = identities.get(client);
      if (!identity) return done(new Error('not authenticated'));
      const decision = checkPublish(identity, packet.topic, packet.payload);
      if (decision instanceof Error) return done(decision);
      if (identity.kind !== 'device') return done(null);
      presence.seen(identity.sn);
      const kind = decision.kind;
      if (!sink || !kind || !sink.carries(kind)) return done(null);
      const put = sink.put({
        sn: identity.sn,
        kind,
        topic: packet.topic,
        payload: packetPayload(packet.payload),
        qos: packet.qos === 0 ? 0 : 1,
      });
      if (packet.qos === 0) {
        // At most once: the device waits for nothing, so neither does the broker.
        put.catch(() => metrics.dropped.inc({ reason: 'not_handed_on' }));
        return done(null);
      }
      // Aedes writes the PUBACK only after done(null): once the message is safe where the sink put it (RabbitMQ confirmed it, or the service committed it).
      put.then(
        () => done(null),
        (error: unknown) => {
          metrics.dropped.inc({ reason: 'not_handed_on' });
          log.debug({ err: error, kind }, 'MQTT publish refused: not handed on to its service');
          done(new Error('publish not handed on'));
        },
      );
    } catch (error) {
      log.error({ err: error }, 'authorizePublish failed');
      done(new Error('internal error'));
    }
  };

  const authorizeSubscribe: Hooks['authorizeSubscribe'] = (client, subscription, done) => {
    try {
      const identity = identities.get(client);
      if (!identity) return done(new Error('not authenticated'));
      const decision = canSubscribe(identity, subscription.topic);
      if (!decision.allowed) {
        metrics.subscriptionsRefused.inc({ reason: decision.reason });
        log.warn({ topic: subscription.topic, reason: decision.reason }, 'MQTT subscription refused by ACL');
        return done(null, null);
      }
      subscription.qos = grantedQos(identity, subscription.qos);
      done(null, subscription);
    } catch (error) {
      log.error({ err: error }, 'authorizeSubscribe failed');
      done(null, null);
    }
  };

  const authorizeForward: Hooks['authorizeForward'] = (client, packet) => {
    const identity = identities.get(client);
    if (!identity || !canReceive(identity, packet.topic)) return null;
    metrics.messagesOut.inc();
    inflight.sent(packet.qos);
    return packet;
  };

  return { authenticate, authorizePublish, authorizeSubscribe, authorizeForward };
}

/**
 * The rules every publish passes, whether it came over MQTT or from a service
 * of this process (in-process-publisher.ts): the payload limit, then the ACL.
 * A refusal is counted and logged and comes back as the error to refuse it
 * with; an allowed publish is counted in.
 */
export function publishCheck(deps: Pick<HookDependencies, 'maxPayloadBytes' | 'metrics' | 'log'>) {
  const { maxPayloadBytes, metrics, log } = deps;
  return (identity: MqttIdentity, topic: string, payload: Buffer | string): Extract<AclDecision, { allowed: true }> | Error => {
    if (exceedsPayloadLimit(payload, maxPayloadBytes)) {
      metrics.dropped.inc({ reason: 'too_large' });
      log.warn({ topic, size: payloadBytes(payload) }, 'MQTT publish refused: payload too large');
      return new Error('payload too large');
    }
    const decision = canPublish(identity, topic);
    if (!decision.allowed) {
      metrics.dropped.inc({ reason: decision.reason });
      log.warn({ topic, reason: decision.reason }, 'MQTT publish refused by ACL');
      return new Error(`publish refused: ${decision.reason}`);
    }
    metrics.messagesIn.inc();
    return decision;
  };
}

const packetPayload = (payload: Buffer | string): Buffer => (Buffer.isBuffer(payload) ? payload : Buffer.from(payload));

/** The error that makes Aedes answer the CONNACK with `code` (and close the connection). */
function authenticateError(code: ConnackRefusalCode, message: string): AuthenticateError {
  const error: AuthenticateError = Object.assign(new Error(message), { returnCode: code });
  return error;
}
