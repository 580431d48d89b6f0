import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import type { CredentialCache, CredentialHasher, PresenceRecorder } from '#libs/devices';
import { canPublish, canReceive, canSubscribe, grantedQos } from '#libs/mqtt-contract';
import { lowerRequestedQos } from './aedes-workarounds.js';
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
import { errorFields } from './log-fields.js';
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
}

type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;

/**
 * The Aedes hooks. Each one asks the rules (connect-decision.ts, the ACL of
 * libs/mqtt-contract, payload-limit.ts, auth-throttle.ts), counts and logs the
 * answer, and hands it to Aedes. They run on the hot path as callbacks:
 * nothing here throws, and the only I/O is the credential cache's batched
 * load and the throttle's count of a failure.
 */
export function aedesHooks(deps: HookDependencies): Hooks {
  const { accounts, credentials, hasher, throttle, identities, presence, inflight, metrics, log } = deps;
  const lowerQos = (client: Client, requested: 0 | 1 | 2) => {
    const identity = identities.get(client);
    return identity ? grantedQos(identity, requested) : requested;
  };

  const lookUp = (kind: 'device' | 'configured', request: ConnectRequest, password: Buffer): Promise<AccountLookup> => {
    const username = request.username!;
    if (kind === 'configured') {
      return accounts.verify(username, password, request.clientId).then(
        (identity): AccountLookup => ({ account: 'configured', identity }),
        (error: unknown): AccountLookup => {
          log.error(errorFields(error), 'password check failed');
          return { account: 'failed', reason: 'internal' };
        },
      );
    }
    return credentials.lookup(username).then(
      (storedHash): AccountLookup =>
        storedHash === null
          ? { account: 'device', found: false }
          : { account: 'device', found: true, secretMatches: hasher.matches(password, storedHash) },
      (error: unknown): AccountLookup => {
        log.error(errorFields(error), 'device credentials could not be read');
        return { account: 'failed', reason: 'unavailable' };
      },
    );
  };

  const authenticate: Hooks['authenticate'] = (client, username, password, done) => {
    let throttledUsername: string | undefined;
    let address: string | undefined;
    const settle = (decision: ConnectDecision) => {
      if ('accept' in decision) {
        identities.set(client, decision.identity);
        if (decision.accept === 'device') lowerRequestedQos(client, lowerQos);
        return done(null, true);
      }
      if (!('refuse' in decision)) return settle({ refuse: 'internal', code: CONNACK.serverUnavailable });
      metrics.authFailures.inc({ reason: decision.refuse });
      log.info({ reason: decision.refuse }, 'MQTT connect refused');
      if (isFailedGuess(decision.refuse)) {
        throttle
          .recordFailure(throttledUsername, address)
          .catch((error: unknown) => log.warn(errorFields(error), 'failed CONNECT not counted'));
      }
      done(authenticateError(decision.code, `connect refused: ${decision.refuse}`), false);
    };
    try {
      const configured = accounts.kindOf(username);
      // Guessing at a built-in service's name must not cut the services off: they are counted by address only.
      throttledUsername = configured === 'service' ? undefined : username || undefined;
      address = addressKey('remoteAddress' in client.conn ? client.conn.remoteAddress : undefined);
      const throttled = throttle.blocked(throttledUsername, address);
      if (throttled) metrics.throttled.inc({ scope: throttled });
      const request: ConnectRequest = { clientId: client.id, username, hasPassword: Boolean(password), configured, throttled: !!throttled };
      const first = decideConnect(request);
      if (!('lookup' in first)) return settle(first);
      lookUp(first.lookup, request, password!)
        .then((lookup) => settle(decideConnect(request, lookup)))
        .catch((error: unknown) => log.error(errorFields(error), 'authenticate failed'));
    } catch (error) {
      log.error(errorFields(error), 'authenticate failed');
      settle({ refuse: 'internal', code: CONNACK.serverUnavailable });
    }
  };

  const authorizePublish: Hooks['authorizePublish'] = (client, packet, done) => {
    try {
      // A null client is the broker re-publishing a will of a client gone elsewhere; wills were checked when set.
      if (!client) return done(null);
      const identity = identities.get(client);
      if (!identity) return done(new Error('not authenticated'));
      if (exceedsPayloadLimit(packet.payload, deps.maxPayloadBytes)) {
        metrics.dropped.inc({ reason: 'too_large' });
        log.warn({ topic: packet.topic, size: payloadBytes(packet.payload) }, 'MQTT publish refused: payload too large');
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
      log.error(errorFields(error), 'authorizePublish failed');
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
      log.error(errorFields(error), 'authorizeSubscribe failed');
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

/** The error that makes Aedes answer the CONNACK with `code` (and close the connection). */
function authenticateError(code: ConnackRefusalCode, message: string): AuthenticateError {
  const error: AuthenticateError = Object.assign(new Error(message), { returnCode: code });
  return error;
}
