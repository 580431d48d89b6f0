import {
  DEVICE_DOWNSTREAM,
  DEVICE_UPSTREAM,
  filterCovers,
  internalTopics,
  isValidFilter,
  parseDeviceTopic,
  SYS_PREFIX,
  topicMatches,
  topicPatterns,
  topics,
  type DeviceTopicKind,
} from './topics.js';

/** Who is on the other end of an MQTT connection, as the broker established at CONNECT. */
export type MqttIdentity = { kind: 'device'; sn: string } | ({ kind: 'service'; name: string } & ServiceGrant);

export interface ServiceGrant {
  publish: readonly string[];
  subscribe: readonly string[];
  /**
   * Operator accounts only: filters taken back out of the grants, so an
   * account can hold `#` minus a subtree. A publish to a topic a deny filter
   * matches is refused; a subscription whose filter could match any topic a
   * deny filter matches (the two overlap) is refused, whatever it also covers.
   */
  denyPublish?: readonly string[];
  denySubscribe?: readonly string[];
}

/**
 * What the built-in service accounts may do. Operator-defined accounts bring
 * their own filters from config and are checked by the same rules.
 */
export const SERVICE_GRANTS = {
  provisioning: {
    publish: [topicPatterns.pairingResult, topicPatterns.otaJob, internalTopics.deviceCredentials, topicPatterns.stateDesired],
    subscribe: [
      topicPatterns.stateReported,
      topicPatterns.pairingConfirm,
      topicPatterns.reset,
      topicPatterns.status,
      topicPatterns.otaProgress,
      topicPatterns.telemetry,
      `${SYS_PREFIX}#`,
    ],
  },
  faultFeedback: {
    publish: [topicPatterns.faultsAck],
    subscribe: [topicPatterns.faults, `${SYS_PREFIX}#`],
  },
} as const satisfies Record<string, ServiceGrant>;

export type AclRefusal = 'foreign_namespace' | 'wrong_direction' | 'not_granted' | 'denied' | 'reserved' | 'invalid';
/** `kind`: a device's publish names the kind of its topic, so the broker need not parse the topic again. */
export type AclDecision = { allowed: true; kind?: DeviceTopicKind } | { allowed: false; reason: AclRefusal };

const ALLOW: AclDecision = { allowed: true };
/** A device's publish allowed, with the kind of its topic (one constant per kind: nothing allocated per message). */
const ALLOW_DEVICE = Object.fromEntries(
  (Object.keys(topics) as DeviceTopicKind[]).map((kind) => [kind, { allowed: true, kind }]),
) as Record<DeviceTopicKind, AclDecision>;
const refuse = (reason: AclRefusal): AclDecision => ({ allowed: false, reason });

/** `devices/`: the first level of every device topic topics.ts builds. */
const DEVICE_NAMESPACE_ROOT = `${topicPatterns.status.split('/', 1)[0]}/`;

/** `devices/<sn>/…`: the only topics a device may publish to or be sent. Allocates nothing: it runs for every message. */
function inDeviceNamespace(sn: string, topic: string): boolean {
  const root = DEVICE_NAMESPACE_ROOT.length;
  return topic.startsWith(DEVICE_NAMESPACE_ROOT) && topic.startsWith(sn, root) && topic[root + sn.length] === '/';
}

/** May this client publish to this concrete topic? */
export function canPublish(identity: MqttIdentity, topic: string): AclDecision {
  if (topic.length === 0 || topic.includes('+') || topic.includes('#') || topic.includes('\u0000')) return refuse('invalid');
  if (topic.startsWith(SYS_PREFIX)) return refuse('reserved');
  if (identity.kind === 'device') {
    const parsed = parseDeviceTopic(topic);
    if (!inDeviceNamespace(identity.sn, topic)) return refuse('foreign_namespace');
    if (!parsed || parsed.sn !== identity.sn || !DEVICE_UPSTREAM.includes(parsed.kind)) return refuse('wrong_direction');
    return ALLOW_DEVICE[parsed.kind];
  }
  if (!identity.publish.some((grant) => topicMatches(grant, topic))) return refuse('not_granted');
  return identity.denyPublish?.some((deny) => topicMatches(deny, topic)) ? refuse('denied') : ALLOW;
}

/**
 * May this client subscribe to this filter? A device only within
 * `devices/<own SN>/`, and only to filters that reach a topic flowing towards
 * it; a service only to filters its grants cover.
 */
export function canSubscribe(identity: MqttIdentity, filter: string): AclDecision {
  if (!isValidFilter(filter)) return refuse('invalid');
  if (identity.kind === 'device') {
    const levels = filter.split('/');
    if (levels[0] !== 'devices' || levels[1] !== identity.sn || levels.length < 3) {
      return refuse(filter.startsWith('$') ? 'reserved' : 'foreign_namespace');
    }
    const reachesDownstream = DEVICE_DOWNSTREAM.some((kind) => topicMatches(filter, topics[kind](identity.sn)));
    return reachesDownstream ? ALLOW : refuse('wrong_direction');
  }
  if (!identity.subscribe.some((grant) => filterCovers(grant, filter))) return refuse('not_granted');
  return identity.denySubscribe?.some((deny) => filtersOverlap(deny, filter)) ? refuse('denied') : ALLOW;
}

/**
 * May the broker deliver this message to this client? What its subscriptions
 * matched, within the rules: a device only topics of its own namespace
 * (whatever a session restored from elsewhere holds), an operator account
 * nothing its deny filters take back.
 */
export function canReceive(identity: MqttIdentity, topic: string): boolean {
  if (identity.kind === 'device') return inDeviceNamespace(identity.sn, topic);
  return !identity.denySubscribe?.some((deny) => topicMatches(deny, topic));
}

/**
 * Could some topic match both filters? Level by level: `#` matches the rest
 * (and the parent level), `+` any one level, other levels must be equal; a
 * filter starting with a wildcard never matches a `$` topic (MQTT 4.7.2).
 */
export function filtersOverlap(first: string, second: string): boolean {
  const a = first.split('/');
  const b = second.split('/');
  const wildcard = (level: string) => level === '+' || level === '#';
  if ((wildcard(a[0]) && b[0].startsWith('$')) || (wildcard(b[0]) && a[0].startsWith('$'))) return false;
  for (let index = 0; ; index += 1) {
    const left = a[index];
    const right = b[index];
    if (left === '#' || right === '#') return true;
    if (left === undefined || right === undefined) return left === right;
    if (left !== '+' && right !== '+' && left !== right) return false;
  }
}

/** Devices get at most QoS 1: QoS 2's four-way handshake costs them more than a duplicate does. */
export function grantedQos(identity: MqttIdentity, requested: 0 | 1 | 2): 0 | 1 | 2 {
  return identity.kind === 'device' && requested === 2 ? 1 : requested;
}
