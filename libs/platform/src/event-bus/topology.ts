import type { ConfirmChannel } from 'amqplib';
import type { EventBusConfig } from '#libs/config';
import { DEVICE_UPSTREAM, type DeviceTopicKind } from '#libs/mqtt-contract';

/**
 * Which service consumes which upstream kind. Fault reports are fault-feedback's;
 * every other kind a device sends (pairing, resets, status, state, telemetry,
 * firmware progress) is provisioning's, so a kind added to the contract reaches
 * provisioning without a change here.
 */
export const CONSUMER_GROUPS: Readonly<Record<string, readonly DeviceTopicKind[]>> = {
  'fault-feedback': ['faults'],
  provisioning: DEVICE_UPSTREAM.filter((kind) => kind !== 'faults'),
};

/** The group that consumes each kind, looked up for every device message the broker hands on. */
const GROUP_OF_KIND: ReadonlyMap<DeviceTopicKind, string> = new Map(
  Object.entries(CONSUMER_GROUPS).flatMap(([group, kinds]) => kinds.map((kind) => [kind, group] as const)),
);

/** Header carrying the MQTT topic the device published to. */
export const TOPIC_HEADER = 'x-topic';
/** Header the consumer sets on a message it dead-letters: why it gave up. */
export const FAILURE_HEADER = 'x-failure-reason';

/**
 * The names and shapes on RabbitMQ: one direct exchange for device messages;
 * per consumer group, `partitions` quorum queues with single active consumer
 * (RabbitMQ gives each to one live replica and moves it when that one dies),
 * bound by `<kind>.<partition>`; a delivery limit, then the group's
 * dead-letter queue.
 */
export class EventBusTopology {
  readonly exchange: string;
  readonly deadLetterExchange: string;

  constructor(private readonly config: Pick<EventBusConfig, 'queuePrefix' | 'partitions' | 'deliveryLimit'>) {
    this.exchange = `${config.queuePrefix}.device-messages`;
    this.deadLetterExchange = `${config.queuePrefix}.dead-letters`;
  }

  get partitions(): number {
    return this.config.partitions;
  }

  /** FNV-1a of the SN: stable across processes and versions, so a device's messages always meet in one queue. */
  partitionOf(sn: string): number {
    let hash = 0x811c9dc5;
    for (let index = 0; index < sn.length; index += 1) {
      hash ^= sn.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.config.partitions;
  }

  /** The routing key of one device message of this kind for this partition. */
  kindRoutingKey(kind: DeviceTopicKind, partition: number): string {
    return `${kind}.${partition}`;
  }

  /** The routing key of a batch of device messages for one group's partition (device-batch.ts). */
  batchRoutingKey(group: string, partition: number): string {
    return `batch.${group}.${partition}`;
  }

  /** The consumer group that takes this kind; undefined when none does. */
  groupOf(kind: DeviceTopicKind): string | undefined {
    return GROUP_OF_KIND.get(kind);
  }

  queue(group: string, partition: number): string {
    return `${this.config.queuePrefix}.${group}.${partition}`;
  }

  deadLetterQueue(group: string): string {
    return `${this.config.queuePrefix}.${group}.dead`;
  }

  /**
   * Where the replicas of a group count each other: each consumes it (nothing
   * is ever sent there), so its consumer count is the number of live
   * replicas, which single active consumer queues do not tell.
   */
  replicasQueue(group: string): string {
    return `${this.config.queuePrefix}.${group}.replicas`;
  }

  /** Whether any group consumes this kind (what the broker's sink carries). */
  carries(kind: DeviceTopicKind): boolean {
    return GROUP_OF_KIND.has(kind);
  }

  /**
   * Declares everything, idempotently. Broker nodes and services both do it at
   * connect, so whichever starts first, no message finds its queue missing.
   */
  async declare(channel: ConfirmChannel): Promise<void> {
    await channel.assertExchange(this.exchange, 'direct', { durable: true });
    await channel.assertExchange(this.deadLetterExchange, 'direct', { durable: true });
    for (const [group, kinds] of Object.entries(CONSUMER_GROUPS)) {
      const deadLetters = this.deadLetterQueue(group);
      await channel.assertQueue(deadLetters, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(deadLetters, this.deadLetterExchange, group);
      await channel.assertQueue(this.replicasQueue(group), { durable: true, arguments: { 'x-queue-type': 'classic' } });
      for (let partition = 0; partition < this.config.partitions; partition += 1) {
        const queue = this.queue(group, partition);
        await channel.assertQueue(queue, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            'x-single-active-consumer': true,
            'x-delivery-limit': this.config.deliveryLimit,
            'x-dead-letter-exchange': this.deadLetterExchange,
            'x-dead-letter-routing-key': group,
          },
        });
        for (const kind of kinds) await channel.bindQueue(queue, this.exchange, this.kindRoutingKey(kind, partition));
        await channel.bindQueue(queue, this.exchange, this.batchRoutingKey(group, partition));
      }
    }
  }

  /** Deletes what declare made (a prefix's queues, their messages, and its exchanges): for throw-away prefixes, as suites and benchmarks use. */
  async remove(channel: Pick<ConfirmChannel, 'deleteQueue' | 'deleteExchange'>): Promise<void> {
    for (const group of Object.keys(CONSUMER_GROUPS)) {
      for (let partition = 0; partition < this.config.partitions; partition += 1) await channel.deleteQueue(this.queue(group, partition));
      await channel.deleteQueue(this.deadLetterQueue(group));
      await channel.deleteQueue(this.replicasQueue(group));
    }
    await channel.deleteExchange(this.exchange);
    await channel.deleteExchange(this.deadLetterExchange);
  }
}
