/**
 * Every MQTT topic of the contract. Nobody else writes a topic string by hand:
 * devices, services, the broker and the tests build them here.
 */

/** A serial number as it may appear in a topic: no `/`, `+`, `#`, whitespace or other surprises. */
export const SN_PATTERN = /^[A-Za-z0-9_-]{4,64}$/;

export function isValidSn(value: unknown): value is string {
  return typeof value === 'string' && SN_PATTERN.test(value);
}

const DEVICE_ROOT = 'devices';

/** Concrete topics of one device. */
export const topics = {
  pairingConfirm: (sn: string) => `${DEVICE_ROOT}/${sn}/pairing/confirm`,
  pairingResult: (sn: string) => `${DEVICE_ROOT}/${sn}/pairing/result`,
  status: (sn: string) => `${DEVICE_ROOT}/${sn}/status`,
  faults: (sn: string) => `${DEVICE_ROOT}/${sn}/faults`,
  faultsAck: (sn: string) => `${DEVICE_ROOT}/${sn}/faults/ack`,
  reset: (sn: string) => `${DEVICE_ROOT}/${sn}/reset`,
  otaJob: (sn: string) => `${DEVICE_ROOT}/${sn}/ota/job`,
  otaProgress: (sn: string) => `${DEVICE_ROOT}/${sn}/ota/progress`,
  telemetry: (sn: string) => `${DEVICE_ROOT}/${sn}/telemetry`,
  stateReported: (sn: string) => `${DEVICE_ROOT}/${sn}/state/reported`,
  stateDesired: (sn: string) => `${DEVICE_ROOT}/${sn}/state/desired`,
} as const;

export type DeviceTopicKind = keyof typeof topics;

/** Subscription filters for services: the same topic for every device. */
export const topicPatterns: Record<DeviceTopicKind, string> = {
  pairingConfirm: topics.pairingConfirm('+'),
  pairingResult: topics.pairingResult('+'),
  status: topics.status('+'),
  faults: topics.faults('+'),
  faultsAck: topics.faultsAck('+'),
  reset: topics.reset('+'),
  otaJob: topics.otaJob('+'),
  otaProgress: topics.otaProgress('+'),
  telemetry: topics.telemetry('+'),
  stateReported: topics.stateReported('+'),
  stateDesired: topics.stateDesired('+'),
};

/** Which way each device topic flows, as in the contract's MQTT table. */
export const DEVICE_UPSTREAM: readonly DeviceTopicKind[] = [
  'pairingConfirm',
  'status',
  'faults',
  'reset',
  'otaProgress',
  'telemetry',
  'stateReported',
];
export const DEVICE_DOWNSTREAM: readonly DeviceTopicKind[] = ['pairingResult', 'faultsAck', 'otaJob', 'stateDesired'];

/**
 * Broker-internal topics. They start with `$`, so no `#` or `+` subscription
 * ever matches them (MQTT 4.7.2); only service accounts granted them may
 * publish, and only the broker consumes them.
 */
export const internalTopics = {
  /** A device's credentials changed (rotated or revoked): every broker node drops its cache entry and the open connection. */
  deviceCredentials: '$internal/devices/credentials',
} as const;

export const SYS_PREFIX = '$SYS/';

/** `devices/<sn>/<rest>` → its SN and kind, or undefined for any other topic. */
export function parseDeviceTopic(topic: string): { sn: string; kind: DeviceTopicKind } | undefined {
  const levels = topic.split('/');
  if (levels[0] !== DEVICE_ROOT || levels.length < 3 || !isValidSn(levels[1])) return undefined;
  const sn = levels[1];
  const kind = (Object.keys(topics) as DeviceTopicKind[]).find((candidate) => topics[candidate](sn) === topic);
  return kind ? { sn, kind } : undefined;
}

/** MQTT topic matching (3.1.1 §4.7): does `filter` match the concrete `topic`? */
export function topicMatches(filter: string, topic: string): boolean {
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  if (topic.startsWith('$') && (filterLevels[0] === '+' || filterLevels[0] === '#')) return false;
  for (let index = 0; index < filterLevels.length; index += 1) {
    const level = filterLevels[index];
    if (level === '#') return index === filterLevels.length - 1;
    if (index >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[index]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

/**
 * Does the `grant` filter cover every topic the `filter` could match? Used to
 * check a subscription against an account's allowed filters.
 */
export function filterCovers(grant: string, filter: string): boolean {
  const grantLevels = grant.split('/');
  const filterLevels = filter.split('/');
  if (filter.startsWith('$') !== grant.startsWith('$')) return false;
  for (let index = 0; index < grantLevels.length; index += 1) {
    const level = grantLevels[index];
    if (level === '#') return true;
    if (index >= filterLevels.length) return false;
    const wanted = filterLevels[index];
    if (wanted === '#') return false;
    if (level === '+') continue;
    if (level !== wanted) return false;
  }
  return grantLevels.length === filterLevels.length;
}

/** A syntactically valid subscription filter (wildcards only as whole levels, `#` last). */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 512 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, index) => {
    if (level === '#') return index === levels.length - 1;
    if (level === '+') return true;
    return !level.includes('#') && !level.includes('+');
  });
}
