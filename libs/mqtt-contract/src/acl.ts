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
} from './topics.js';

/** Who is on the other end of an MQTT connection, as the broker established at CONNECT. */
export type MqttIdentity =
  { kind: 'device'; sn: string } | { kind: 'service'; name: string; publish: readonly string[]; subscribe: readonly string[] };

export interface ServiceGrant {
  publish: readonly string[];
  subscribe: readonly string[];
}

/**
 * What the built-in service accounts may do. Operator-defined accounts bring
 * their own filters from config and are checked by the same rules.
 */
export const SERVICE_GRANTS = {
  provisioning: {
    publish: [topicPatterns.pairingResult, topicPatterns.otaJob, internalTopics.deviceCredentials],
    subscribe: [topicPatterns.pairingConfirm, topicPatterns.reset, topicPatterns.status, topicPatterns.otaProgress, `${SYS_PREFIX}#`],
  },
  faultFeedback: {
    publish: [topicPatterns.faultsAck],
    subscribe: [topicPatterns.faults, `${SYS_PREFIX}#`],
  },
} as const satisfies Record<string, ServiceGrant>;

export type AclRefusal = 'foreign_namespace' | 'wrong_direction' | 'not_granted' | 'reserved' | 'invalid';
export type AclDecision = { allowed: true } | { allowed: false; reason: AclRefusal };

const ALLOW: AclDecision = { allowed: true };
const refuse = (reason: AclRefusal): AclDecision => ({ allowed: false, reason });

/** May this client publish to this concrete topic? */
export function canPublish(identity: MqttIdentity, topic: string): AclDecision {
  if (topic.length === 0 || topic.includes('+') || topic.includes('#') || topic.includes('\u0000')) return refuse('invalid');
  if (topic.startsWith(SYS_PREFIX)) return refuse('reserved');
  if (identity.kind === 'device') {
    const parsed = parseDeviceTopic(topic);
    if (!topic.startsWith(`devices/${identity.sn}/`)) return refuse('foreign_namespace');
    if (!parsed || parsed.sn !== identity.sn || !DEVICE_UPSTREAM.includes(parsed.kind)) return refuse('wrong_direction');
    return ALLOW;
  }
  return identity.publish.some((grant) => topicMatches(grant, topic)) ? ALLOW : refuse('not_granted');
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
  return identity.subscribe.some((grant) => filterCovers(grant, filter)) ? ALLOW : refuse('not_granted');
}

/** Devices get at most QoS 1: QoS 2's four-way handshake costs them more than a duplicate does. */
export function grantedQos(identity: MqttIdentity, requested: 0 | 1 | 2): 0 | 1 | 2 {
  return identity.kind === 'device' && requested === 2 ? 1 : requested;
}
