import { isValidSn, type MqttIdentity } from '#libs/mqtt-contract';

/** The MQTT 3.1.1 CONNACK return codes the broker refuses with. */
export const CONNACK = {
  identifierRejected: 2,
  serverUnavailable: 3,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;
export type ConnackRefusalCode = (typeof CONNACK)[keyof typeof CONNACK];

/** Why a CONNECT was refused: the `reason` label of mqtt_auth_failures_total. */
export type ConnectRefusal =
  | 'throttled'
  | 'anonymous'
  | 'client_id_mismatch'
  | 'unknown_or_revoked'
  | 'bad_secret'
  | 'bad_service_password'
  | 'unavailable'
  | 'internal';

/** What kind of account a username names in the broker's configuration (devices are not configured: they are in the registry). */
export type ConfiguredAccount = 'service' | 'operator';

export interface ConnectRequest {
  clientId: string;
  username: string | undefined;
  hasPassword: boolean;
  /** Set when the username is a built-in service or an operator account; a username never names both an account and a device. */
  configured: ConfiguredAccount | undefined;
  /** Set when the username or the source address is refused for a while after failed attempts (auth-throttle.ts). */
  throttled: boolean;
}

type ServiceIdentity = Extract<MqttIdentity, { kind: 'service' }>;

/** What the broker found when it looked the account up (the registry for a device, the configuration for the others). */
export type AccountLookup =
  | { account: 'device'; found: false }
  | { account: 'device'; found: true; secretMatches: boolean }
  | { account: 'configured'; identity: ServiceIdentity | undefined }
  | { account: 'failed'; reason: 'unavailable' | 'internal' };

export type ConnectDecision =
  | { accept: 'device' | ConfiguredAccount; identity: MqttIdentity }
  | { refuse: ConnectRefusal; code: ConnackRefusalCode }
  /** The request alone does not decide: look this account up, then decide again with the lookup. */
  | { lookup: 'device' | 'configured' };

const refuse = (reason: ConnectRefusal, code: ConnackRefusalCode): ConnectDecision => ({ refuse: reason, code });
// The two answers that send the hook to a lookup are shared: one of them comes on every CONNECT of a storm.
const LOOK_UP_DEVICE: ConnectDecision = Object.freeze({ lookup: 'device' });
const LOOK_UP_CONFIGURED: ConnectDecision = Object.freeze({ lookup: 'configured' });

/**
 * Who may connect. Pure: the hook (aedes-hooks.ts) asks once with the request
 * alone, performs the lookup the answer names, and asks again with it, so a
 * request the rules refuse up front (no credentials, a clientId that is not
 * the SN, a malformed SN) never costs a registry read.
 *
 * - Throttled (too many failed attempts for this username or address): 5,
 *   whatever the credentials, so guessing during the window learns nothing.
 * - No username or no password: 5.
 * - A configured account (built-in service or operator): the clientId must
 *   start with the username and the password must match, else 4.
 * - Anyone else is a device: clientId must equal username (2), the username
 *   must be a well-formed registered, unrevoked SN and the secret must match
 *   its stored hash (4 for either, so SNs cannot be told apart by the answer).
 * - A lookup that failed (database down, hash error): 3, try again later.
 */
export function decideConnect(request: ConnectRequest, lookup?: AccountLookup): ConnectDecision {
  const { clientId, username, configured } = request;
  if (request.throttled) return refuse('throttled', CONNACK.notAuthorized);
  if (!username || !request.hasPassword) return refuse('anonymous', CONNACK.notAuthorized);
  if (configured) {
    if (!clientId.startsWith(username)) return refuse('bad_service_password', CONNACK.badUsernameOrPassword);
    if (!lookup) return LOOK_UP_CONFIGURED;
    if (lookup.account === 'failed') return refuse(lookup.reason, CONNACK.serverUnavailable);
    if (lookup.account !== 'configured' || !lookup.identity) return refuse('bad_service_password', CONNACK.badUsernameOrPassword);
    return { accept: configured, identity: lookup.identity };
  }
  if (clientId !== username) return refuse('client_id_mismatch', CONNACK.identifierRejected);
  if (!isValidSn(username)) return refuse('unknown_or_revoked', CONNACK.badUsernameOrPassword);
  if (!lookup) return LOOK_UP_DEVICE;
  if (lookup.account === 'failed') return refuse(lookup.reason, CONNACK.serverUnavailable);
  if (lookup.account !== 'device' || !lookup.found) return refuse('unknown_or_revoked', CONNACK.badUsernameOrPassword);
  if (!lookup.secretMatches) return refuse('bad_secret', CONNACK.badUsernameOrPassword);
  // The clientId, equal to the username: the connection keeps that string anyway.
  return { accept: 'device', identity: { kind: 'device', sn: clientId } };
}

/**
 * Refusals that were a guess at a password or secret (or at an SN): these
 * count towards the throttle. Missing credentials, a wrong clientId or an
 * unavailable database are not guesses.
 */
export function isFailedGuess(reason: ConnectRefusal): boolean {
  return reason === 'bad_secret' || reason === 'unknown_or_revoked' || reason === 'bad_service_password';
}
