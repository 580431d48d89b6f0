import { describe, expect, it } from '@jest/globals';
import { DEVICE_UPSTREAM } from '#libs/mqtt-contract';
import { CONSUMER_GROUPS, EventBusTopology } from './topology.js';

const topology = new EventBusTopology({ queuePrefix: 'appliance', partitions: 16, deliveryLimit: 5 });

describe('event bus topology', () => {
  it('gives every upstream kind to exactly one consuming service', () => {
    for (const kind of DEVICE_UPSTREAM) {
      expect(Object.values(CONSUMER_GROUPS).filter((kinds) => kinds.includes(kind))).toHaveLength(1);
      expect(topology.carries(kind)).toBe(true);
    }
    expect(topology.carries('faultsAck')).toBe(false);
    expect(CONSUMER_GROUPS['fault-feedback']).toEqual(['faults']);
  });

  it('puts a device in one partition, the same in every process, and spreads devices over all of them', () => {
    const sns = Array.from({ length: 2000 }, (_, index) => `SN${String(index).padStart(8, '0')}`);
    const partitions = sns.map((sn) => topology.partitionOf(sn));
    expect(sns.map((sn) => topology.partitionOf(sn))).toEqual(partitions);
    expect(new Set(partitions)).toEqual(new Set(Array.from({ length: 16 }, (_, index) => index)));
    // Pinned: a change of the hash would move every device to another queue.
    expect([topology.partitionOf('A1B2C3D4'), topology.partitionOf('SN00000001')]).toEqual(PINNED);
    expect(topology.kindRoutingKey('faults', topology.partitionOf('SN00000001'))).toBe(`faults.${PINNED[1]}`);
    expect(topology.queue('fault-feedback', 3)).toBe('appliance.fault-feedback.3');
  });
});

const PINNED = [13, 7];
