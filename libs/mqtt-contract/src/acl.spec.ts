import { describe, expect, it } from '@jest/globals';
import { canPublish, canReceive, canSubscribe, filtersOverlap, grantedQos, SERVICE_GRANTS, type MqttIdentity } from './acl.js';
import { decodePayload } from './decode.js';
import {
  FaultReportPayload,
  FIRMWARE_VERSION_PATTERN,
  OtaProgressPayload,
  StateDesiredPayload,
  StateReportedPayload,
  StatusPayload,
} from './payloads.js';
import { filterCovers, internalTopics, parseDeviceTopic, topicMatches, topicPatterns, topics } from './topics.js';

const device: MqttIdentity = { kind: 'device', sn: 'SN-0001' };
const provisioning: MqttIdentity = { kind: 'service', name: 'provisioning', ...SERVICE_GRANTS.provisioning };
const faultFeedback: MqttIdentity = { kind: 'service', name: 'faultFeedback', ...SERVICE_GRANTS.faultFeedback };

describe('topics', () => {
  it('builds and parses the contract topics', () => {
    expect(topics.faults('SN-0001')).toBe('devices/SN-0001/faults');
    expect(topics.faultsAck('SN-0001')).toBe('devices/SN-0001/faults/ack');
    expect(parseDeviceTopic('devices/SN-0001/pairing/confirm')).toEqual({ sn: 'SN-0001', kind: 'pairingConfirm' });
    expect(parseDeviceTopic('devices/SN-0001/other')).toBeUndefined();
    expect(parseDeviceTopic('devices/a b/status')).toBeUndefined();
  });

  it.each([
    ['devices/+/faults', 'devices/X1/faults', true],
    ['devices/+/faults', 'devices/X1/faults/ack', false],
    ['devices/#', 'devices/X1/faults/ack', true],
    ['#', '$SYS/broker/x', false],
    ['+/broker/x', '$SYS/broker/x', false],
    ['$SYS/#', '$SYS/broker/x', true],
    ['devices/X1/#', 'devices/X1', true],
  ])('topicMatches(%s, %s) = %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it.each([
    ['devices/+/faults', 'devices/X1/faults', true],
    ['devices/+/faults', 'devices/+/faults', true],
    ['devices/+/faults', 'devices/#', false],
    ['devices/+/faults', 'devices/+/+', false],
    ['devices/#', 'devices/+/faults/ack', true],
    ['#', '$internal/devices/credentials', false],
    ['#', '$SYS/#', false],
    ['$SYS/#', '$SYS/+/heartbeat', true],
  ])('filterCovers(%s, %s) = %s', (grant, filter, expected) => {
    expect(filterCovers(grant, filter)).toBe(expected);
  });
});

describe('device ACL', () => {
  it.each(['status', 'faults', 'pairingConfirm', 'reset', 'telemetry'] as const)(
    'may publish its own upstream topic %s, and is told its kind',
    (kind) => {
      expect(canPublish(device, topics[kind]('SN-0001'))).toEqual({ allowed: true, kind });
    },
  );

  it.each([
    [topics.faults('SN-0002'), 'foreign_namespace'],
    [topics.telemetry('SN-0002'), 'foreign_namespace'],
    ['devices/SN-0001/telemetry/x', 'wrong_direction'],
    ['devices/+/telemetry', 'invalid'],
    [topics.faultsAck('SN-0001'), 'wrong_direction'],
    [topics.pairingResult('SN-0001'), 'wrong_direction'],
    ['devices/SN-0001/anything', 'wrong_direction'],
    ['devices/SN-0001', 'foreign_namespace'],
    ['$SYS/broker/clients', 'reserved'],
    [internalTopics.deviceCredentials, 'foreign_namespace'],
    ['devices/+/faults', 'invalid'],
    ['other', 'foreign_namespace'],
  ])('may not publish %s (%s)', (topic, reason) => {
    expect(canPublish(device, topic)).toEqual({ allowed: false, reason });
  });

  it.each([
    'devices/SN-0001/pairing/result',
    'devices/SN-0001/faults/ack',
    'devices/SN-0001/#',
    'devices/SN-0001/+/ack',
    'devices/SN-0001/pairing/+',
  ])('may subscribe %s', (filter) => expect(canSubscribe(device, filter).allowed).toBe(true));

  it.each([
    ['#', 'foreign_namespace'],
    ['devices/#', 'foreign_namespace'],
    ['devices/+/faults/ack', 'foreign_namespace'],
    ['+/SN-0001/faults/ack', 'foreign_namespace'],
    ['devices/SN-0002/faults/ack', 'foreign_namespace'],
    ['devices/SN-0001/faults', 'wrong_direction'],
    ['devices/SN-0001/status', 'wrong_direction'],
    ['devices/SN-0001/telemetry', 'wrong_direction'],
    ['devices/+/telemetry', 'foreign_namespace'],
    ['$SYS/#', 'reserved'],
    ['devices/SN-0001/fa#', 'invalid'],
  ])('may not subscribe %s (%s)', (filter, reason) => {
    expect(canSubscribe(device, filter)).toEqual({ allowed: false, reason });
  });

  it("may publish its own firmware progress and hear its own firmware job, nobody else's", () => {
    expect(canPublish(device, topics.otaProgress('SN-0001'))).toEqual({ allowed: true, kind: 'otaProgress' });
    expect(canPublish(device, topics.otaProgress('SN-0002'))).toEqual({ allowed: false, reason: 'foreign_namespace' });
    expect(canPublish(device, topics.otaJob('SN-0001'))).toEqual({ allowed: false, reason: 'wrong_direction' });
    expect(canSubscribe(device, topics.otaJob('SN-0001'))).toEqual({ allowed: true });
    expect(canSubscribe(device, 'devices/SN-0001/ota/+')).toEqual({ allowed: true });
    expect(canSubscribe(device, topics.otaJob('SN-0002'))).toEqual({ allowed: false, reason: 'foreign_namespace' });
    expect(canSubscribe(device, 'devices/+/ota/job')).toEqual({ allowed: false, reason: 'foreign_namespace' });
    expect(canSubscribe(device, topics.otaProgress('SN-0001'))).toEqual({ allowed: false, reason: 'wrong_direction' });
    expect(parseDeviceTopic('devices/SN-0001/ota/progress')).toEqual({ sn: 'SN-0001', kind: 'otaProgress' });
  });

  it('may report only its own state and hear only its own desired state', () => {
    expect(canPublish(device, topics.stateReported('SN-0001'))).toEqual({ allowed: true, kind: 'stateReported' });
    expect(canPublish(device, topics.stateReported('SN-0002'))).toEqual({ allowed: false, reason: 'foreign_namespace' });
    expect(canPublish(device, topics.stateDesired('SN-0001'))).toEqual({ allowed: false, reason: 'wrong_direction' });
    expect(canSubscribe(device, topics.stateDesired('SN-0001'))).toEqual({ allowed: true });
    expect(canSubscribe(device, topics.stateDesired('SN-0002'))).toEqual({ allowed: false, reason: 'foreign_namespace' });
    expect(canSubscribe(device, 'devices/+/state/desired')).toEqual({ allowed: false, reason: 'foreign_namespace' });
    expect(canSubscribe(device, topics.stateReported('SN-0001'))).toEqual({ allowed: false, reason: 'wrong_direction' });
    expect(parseDeviceTopic('devices/SN-0001/state/reported')).toEqual({ sn: 'SN-0001', kind: 'stateReported' });
    expect(canPublish(provisioning, topics.stateDesired('X123')).allowed).toBe(true);
    expect(canSubscribe(provisioning, topicPatterns.stateReported).allowed).toBe(true);
  });

  it('decodes state reports: values an object, version a positive whole number, reasons short strings', () => {
    expect(decodePayload(StateReportedPayload, '{"values":{"power":true},"version":3}').ok).toBe(true);
    expect(decodePayload(StateReportedPayload, '{"rejected":{"power":"locked"},"version":3}').ok).toBe(true);
    expect(decodePayload(StateReportedPayload, '{"values":[1]}').ok).toBe(false);
    expect(decodePayload(StateReportedPayload, '{"version":0}').ok).toBe(false);
    expect(decodePayload(StateReportedPayload, '{"rejected":{"power":7}}').ok).toBe(false);
    expect(decodePayload(StateReportedPayload, '{"values":{},"extra":1}').ok).toBe(false);
    expect(decodePayload(StateDesiredPayload, '{"version":1,"values":{"power":true},"expiresAt":"2026-01-01T00:00:00.000Z"}').ok).toBe(
      true,
    );
  });

  it.each([
    ['devices/SN-0001/faults/ack', true],
    ['devices/SN-0001/pairing/result', true],
    ['devices/SN-0001/status', true],
    ['devices/SN-0002/faults/ack', false],
    ['devices/SN-00012/faults/ack', false],
    ['devices/SN-0001', false],
    ['$SYS/broker/clients', false],
    ['other/SN-0001/faults/ack', false],
  ])('is delivered %s: %s (its own namespace only, whatever its session holds)', (topic, expected) => {
    expect(canReceive(device, topic)).toBe(expected);
  });

  it('has QoS 2 downgraded to 1, other levels kept', () => {
    expect(grantedQos(device, 2)).toBe(1);
    expect(grantedQos(device, 1)).toBe(1);
    expect(grantedQos(device, 0)).toBe(0);
    expect(grantedQos(provisioning, 2)).toBe(2);
  });
});

describe('service ACL', () => {
  it('lets provisioning hear pairing confirmations, resets, status, firmware progress, telemetry and $SYS', () => {
    const filters = [
      topicPatterns.pairingConfirm,
      topicPatterns.reset,
      topicPatterns.status,
      topicPatterns.otaProgress,
      topicPatterns.telemetry,
      '$SYS/#',
      topics.status('X123'),
    ];
    for (const filter of filters) {
      expect(canSubscribe(provisioning, filter).allowed).toBe(true);
    }
    expect(canSubscribe(provisioning, topicPatterns.faults)).toEqual({ allowed: false, reason: 'not_granted' });
    expect(canSubscribe(provisioning, 'devices/#')).toEqual({ allowed: false, reason: 'not_granted' });
    expect(canSubscribe(provisioning, '$internal/#')).toEqual({ allowed: false, reason: 'not_granted' });
  });

  it('lets provisioning publish pairing results, firmware jobs and credential changes only', () => {
    expect(canPublish(provisioning, topics.pairingResult('X123')).allowed).toBe(true);
    expect(canPublish(provisioning, topics.otaJob('X123')).allowed).toBe(true);
    expect(canPublish(provisioning, topics.otaProgress('X123')).allowed).toBe(false);
    expect(canPublish(provisioning, internalTopics.deviceCredentials).allowed).toBe(true);
    expect(canPublish(provisioning, topics.faultsAck('X123')).allowed).toBe(false);
    expect(canPublish(provisioning, topics.status('X123')).allowed).toBe(false);
    expect(canPublish(provisioning, topics.telemetry('X123')).allowed).toBe(false);
  });

  it('lets fault-feedback hear faults and answer acks, nothing internal', () => {
    expect(canSubscribe(faultFeedback, topicPatterns.faults).allowed).toBe(true);
    expect(canSubscribe(faultFeedback, topicPatterns.telemetry)).toEqual({ allowed: false, reason: 'not_granted' });
    expect(canPublish(faultFeedback, topics.faultsAck('X123')).allowed).toBe(true);
    expect(canPublish(faultFeedback, internalTopics.deviceCredentials)).toEqual({ allowed: false, reason: 'not_granted' });
    expect(canPublish(faultFeedback, '$SYS/x')).toEqual({ allowed: false, reason: 'reserved' });
  });

  it('checks operator accounts against their own filters', () => {
    const monitor: MqttIdentity = { kind: 'service', name: 'monitor', publish: [], subscribe: ['devices/+/status'] };
    expect(canSubscribe(monitor, 'devices/+/status').allowed).toBe(true);
    expect(canSubscribe(monitor, 'devices/#').allowed).toBe(false);
    expect(canPublish(monitor, topics.status('X123')).allowed).toBe(false);
  });
});

describe('operator accounts with deny filters', () => {
  // everything but fault reports and what is sent to devices
  const auditor: MqttIdentity = {
    kind: 'service',
    name: 'auditor',
    publish: ['#'],
    subscribe: ['#', '$SYS/#'],
    denyPublish: ['devices/+/faults/ack', 'devices/+/pairing/#'],
    denySubscribe: ['devices/+/faults', '$SYS/broker/clients/#'],
  };

  it.each([
    ['devices/+/status', true],
    ['devices/X1/status', true],
    ['devices/+/faults/ack', true],
    ['devices/X1/pairing/+', true],
    ['$SYS/broker/load/#', true],
    ['devices/+/faults', false],
    ['devices/X1/faults', false],
    ['devices/+/+', false],
    ['devices/#', false],
    ['+/+/faults', false],
    ['#', false],
    ['$SYS/#', false],
    ['$SYS/broker/clients/connected', false],
  ])('subscribing %s: %s (refused when the filter could match a denied topic)', (filter, allowed) => {
    expect(canSubscribe(auditor, filter)).toEqual(allowed ? { allowed: true } : { allowed: false, reason: 'denied' });
  });

  it.each([
    ['devices/X1/status', true],
    ['telemetry/raw', true],
    ['devices/X1/faults', true],
    ['devices/X1/faults/ack', false],
    ['devices/X1/pairing/result', false],
    ['devices/X1/pairing', false],
  ])('publishing %s: %s', (topic, allowed) => {
    expect(canPublish(auditor, topic)).toEqual(allowed ? { allowed: true } : { allowed: false, reason: 'denied' });
  });

  it('checks grants before denials, and keeps $SYS reserved', () => {
    const narrow: MqttIdentity = { kind: 'service', name: 'narrow', publish: [], subscribe: ['devices/+/status'], denySubscribe: ['#'] };
    expect(canSubscribe(narrow, 'devices/#')).toEqual({ allowed: false, reason: 'not_granted' });
    expect(canSubscribe(narrow, 'devices/+/status')).toEqual({ allowed: false, reason: 'denied' });
    expect(canPublish(auditor, '$SYS/x')).toEqual({ allowed: false, reason: 'reserved' });
  });

  it('is not delivered a denied topic, whatever its session holds', () => {
    expect(canReceive(auditor, 'devices/X1/status')).toBe(true);
    expect(canReceive(auditor, 'devices/X1/faults')).toBe(false);
    expect(canReceive(auditor, '$SYS/broker/clients/connected')).toBe(false);
    expect(canReceive(provisioning, 'devices/X1/faults')).toBe(true);
  });

  it.each([
    ['devices/+/faults', 'devices/X1/faults', true],
    ['devices/+/faults', 'devices/#', true],
    ['devices/+/faults', '#', true],
    ['devices/+/faults', 'devices/+/faults/ack', false],
    ['devices/+/faults', 'devices/X1/status', false],
    ['devices/X1/#', 'devices/X1', true],
    ['devices/X1', 'devices/X1/#', true],
    ['devices/X1', 'devices/X1/+', false],
    ['a/+/c', 'a/b/+', true],
    ['a/b', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/+', '$SYS/#', true],
    ['$SYS/#', '$internal/devices/credentials', false],
    ['#', '+', true],
  ])('filtersOverlap(%s, %s) = %s, either way round', (first, second, expected) => {
    expect(filtersOverlap(first, second)).toBe(expected);
    expect(filtersOverlap(second, first)).toBe(expected);
  });
});

describe('payloads', () => {
  it('accepts a contract fault report and refuses unknown fields', () => {
    const report = {
      reportId: '4f7c2a8e-0d2b-4a63-9a36-6a2d8f1b9c10',
      code: 'E1',
      severity: 'warning',
      occurredAt: '2025-01-02T03:04:05Z',
    };
    expect(decodePayload(FaultReportPayload, JSON.stringify(report)).ok).toBe(true);
    expect(decodePayload(FaultReportPayload, JSON.stringify({ ...report, extra: 1 })).ok).toBe(false);
    expect(decodePayload(FaultReportPayload, JSON.stringify({ ...report, severity: 'meh' })).ok).toBe(false);
    expect(decodePayload(StatusPayload, '{"online":false}').ok).toBe(true);
    expect(decodePayload(StatusPayload, 'not json').ok).toBe(false);
  });

  it('reads firmware progress as the contract says, nothing more', () => {
    const progress = { jobId: '4f7c2a8e-0d2b-4a63-9a36-6a2d8f1b9c10', state: 'downloading', progress: 40 };
    expect(decodePayload(OtaProgressPayload, JSON.stringify(progress)).ok).toBe(true);
    expect(decodePayload(OtaProgressPayload, JSON.stringify({ ...progress, state: 'succeeded' })).ok).toBe(false);
    expect(decodePayload(OtaProgressPayload, JSON.stringify({ ...progress, progress: 101 })).ok).toBe(false);
    expect(decodePayload(OtaProgressPayload, JSON.stringify({ ...progress, jobId: 'job-1' })).ok).toBe(false);
    expect(decodePayload(OtaProgressPayload, JSON.stringify({ ...progress, extra: true })).ok).toBe(false);
  });

  it.each([
    ['1.2.3', true],
    ['10.0.12', true],
    ['1.2', false],
    ['01.2.3', false],
    ['1.2.3-beta', false],
    ['1.2.3.4', false],
  ])('firmware version %s is x.y.z: %s', (version, valid) => {
    expect(FIRMWARE_VERSION_PATTERN.test(version)).toBe(valid);
  });
});
