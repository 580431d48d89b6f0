// The MQTT contract in one place: topic names, payload classes and the ACL
// rules shared by the broker, the services, the simulator and the tests.
export {
  DEVICE_DOWNSTREAM,
  DEVICE_UPSTREAM,
  filterCovers,
  internalTopics,
  isValidFilter,
  isValidSn,
  parseDeviceTopic,
  SN_PATTERN,
  SYS_PREFIX,
  topicMatches,
  topicPatterns,
  topics,
  type DeviceTopicKind,
} from './topics.js';
export {
  canPublish,
  canReceive,
  canSubscribe,
  filtersOverlap,
  grantedQos,
  SERVICE_GRANTS,
  type AclDecision,
  type AclRefusal,
  type MqttIdentity,
  type ServiceGrant,
} from './acl.js';
export * from './payloads.js';
export {
  decodeObject,
  decodePayload,
  exceedsJsonDepth,
  PAYLOAD_LIMITS,
  refusalKind,
  type DecodeLimits,
  type Decoded,
  type RefusalKind,
} from './decode.js';
export { readTelemetryReading, type ReadReading } from './telemetry-reading.js';
