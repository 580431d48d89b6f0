import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as amqpConnect } from 'amqplib';
import type { EventBusConfig } from '#libs/config';
import { topicPatterns, topics } from '#libs/mqtt-contract';
import { createLogger, EventBusTopology, FAILURE_HEADER, RabbitMqServer, RabbitMqSink, TOPIC_HEADER } from '#libs/platform';
import { eventually } from './factories/devices.js';
import { removeBusPrefix } from './support/event-bus.js';

const BUS_URL = process.env.TEST_EVENT_BUS_URL;
if (!BUS_URL) process.stdout.write('event-bus-sharing: TEST_EVENT_BUS_URL is not set, skipping the RabbitMQ suite\n');
const describeWithBus = BUS_URL ? describe : describe.skip;

const PARTITIONS = 8;
const DEVICES = 64;
const BURST = 4;
/** A message's handling time: a burst keeps a device busy for a while, with more of its messages queued behind (prefetch 2 per partition: the rest stays queued in RabbitMQ). */
const HANDLING_MS = 20;
const log = createLogger('silent');

interface Handled {
  replica: string;
  sn: string;
  seq: number;
}

/**
 * RabbitMQ 3.10 gives each partition to its first consumer for good, so a
 * replica started later would only stand by. These replicas are the real
 * transport (RabbitMqServer) on the real RabbitMQ, fed by the broker's
 * RabbitMqSink, with a handler that takes HANDLING_MS per message,
 * keeps each device's messages in sequence itself (as the services' handlers
 * do) and records what it handled. While devices stream, a second replica
 * joins and must end up with its share; then the first stops gracefully and
 * the second takes everything. Throughout, no device's message is handled
 * twice, out of order, or while another replica is in the middle of one of
 * that device's messages.
 */
describeWithBus('event bus: replicas share the partitions', () => {
  const queuePrefix = `t${randomBytes(5).toString('hex')}`;
  const config = { url: BUS_URL!, queuePrefix, partitions: PARTITIONS, deliveryLimit: 5, prefetch: 2 } as EventBusConfig;
  const topology = new EventBusTopology(config);
  const sink = new RabbitMqSink(config, log);
  const handled: Handled[] = [];
  const overlaps: string[] = [];
  const busy = new Set<string>();

  /** A fault-feedback replica whose handler records, per device in order, what it handled. */
  function replica(name: string): RabbitMqServer {
    const server = new RabbitMqServer({ config, group: 'fault-feedback', log, rebalanceEveryMs: 200, settledMs: 800 });
    const chains = new Map<string, Promise<void>>();
    server.addHandler(
      topicPatterns.faults,
      async (payload: Buffer) => {
        const { sn, seq } = JSON.parse(payload.toString('utf8')) as { sn: string; seq: number };
        const previous = chains.get(sn) ?? Promise.resolve();
        const mine = previous.then(async () => {
          if (busy.has(sn)) overlaps.push(`${sn} #${seq} started in ${name} while another replica worked on it`);
          busy.add(sn);
          await new Promise((resolve) => setTimeout(resolve, HANDLING_MS));
          handled.push({ replica: name, sn, seq });
          busy.delete(sn);
        });
        chains.set(sn, mine);
        await mine;
      },
      true,
    );
    return server;
  }

  function listen(server: RabbitMqServer): Promise<void> {
    return new Promise((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
  }

  const sns = Array.from({ length: DEVICES }, (_, index) => `SHARE${String(index).padStart(5, '0')}`);
  const sent = new Map(sns.map((sn) => [sn, 0]));
  let streaming = true;
  /**
   * Every device sends a burst of BURST messages in turn, about 1,000 a second in
   * all, until told to stop: so each device has several messages queued and in
   * work at once, and a hand-over that let two replicas at one device would show.
   */
  async function stream(): Promise<void> {
    while (streaming) {
      await Promise.all(
        sns.map(async (sn) => {
          for (let burst = 0; burst < BURST; burst += 1) {
            const seq = sent.get(sn)! + 1;
            sent.set(sn, seq);
            const payload = Buffer.from(JSON.stringify({ sn, seq }));
            await sink.put({ sn, kind: 'faults', topic: topics.faults(sn), payload, qos: 1 });
          }
        }),
      );
      for (const waiting of burstWaiters.splice(0)) waiting();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const burstWaiters: Array<() => void> = [];
  const burstSent = () => new Promise<void>((resolve) => burstWaiters.push(resolve));

  beforeAll(async () => {
    await sink.start();
  });

  afterAll(async () => {
    streaming = false;
    await sink.close();
    await removeBusPrefix(BUS_URL!, queuePrefix, PARTITIONS);
  });

  it('a replica that joins later gets its share, a stopping one hands everything on, and no device is handled twice or out of order', async () => {
    const first = replica('first');
    await listen(first);
    const streamed = stream();
    await eventually(async () => first.activePartitions === PARTITIONS, 10_000);

    const second = replica('second');
    await listen(second);
    // Its share: half of the partitions each, within a few rebalance rounds.
    await eventually(async () => second.activePartitions === PARTITIONS / 2 && first.activePartitions === PARTITIONS / 2, 15_000);
    // Both work on their halves for a while (three messages from every device), and the halves stay put.
    const sharedAt = handled.length;
    await eventually(async () => handled.length > sharedAt + DEVICES * 3, 10_000);
    const sharedUntil = handled.length;
    expect([first.activePartitions, second.activePartitions]).toEqual([PARTITIONS / 2, PARTITIONS / 2]);

    // Right behind a burst, when every device has messages in work and more queued.
    await burstSent();
    await first.close();
    await eventually(async () => second.activePartitions === PARTITIONS, 10_000);
    const afterStop = handled.length;
    await eventually(async () => handled.length > afterStop + DEVICES * 3, 10_000);
    streaming = false;
    await streamed;
    const total = [...sent.values()].reduce((sum, count) => sum + count, 0);
    await eventually(async () => handled.length >= total, 15_000);
    await second.close();

    expect(overlaps).toEqual([]);
    for (const sn of sns) {
      const sequence = handled.filter((entry) => entry.sn === sn).map((entry) => entry.seq);
      expect(sequence).toEqual(Array.from({ length: sent.get(sn)! }, (_, index) => index + 1));
    }
    expect(handled.length).toBe(total);
    // Both really worked while they shared, and on partitions of their own.
    const shared = handled.slice(sharedAt, sharedUntil);
    const partitionsOf = (name: string) =>
      new Set(shared.filter((entry) => entry.replica === name).map((entry) => topology.partitionOf(entry.sn)));
    expect(partitionsOf('first').size).toBe(PARTITIONS / 2);
    expect(partitionsOf('second').size).toBe(PARTITIONS / 2);
    // Nothing was left behind in RabbitMQ.
    const connection = await amqpConnect(BUS_URL!);
    try {
      const channel = await connection.createChannel();
      for (let partition = 0; partition < PARTITIONS; partition += 1) {
        expect((await channel.checkQueue(topology.queue('fault-feedback', partition))).messageCount).toBe(0);
      }
      expect((await channel.checkQueue(topology.deadLetterQueue('fault-feedback'))).messageCount).toBe(0);
    } finally {
      await connection.close();
    }
  }, 90_000);

  it('puts the messages of a partition sent in one turn into one RabbitMQ message; one that keeps failing is retried alone and dead-lettered, the others handled once', async () => {
    // Twenty devices of one partition, one message each, sent in one turn while no replica runs.
    const partition = topology.partitionOf('BATCH00000');
    const batchSns = Array.from({ length: 2000 }, (_, index) => `BATCH${String(index).padStart(5, '0')}`)
      .filter((sn) => topology.partitionOf(sn) === partition)
      .slice(0, 20);
    const poisoned = batchSns[7];
    await Promise.all(
      batchSns.map((sn) =>
        sink.put({ sn, kind: 'faults', topic: topics.faults(sn), payload: Buffer.from(JSON.stringify({ sn, seq: 1 })), qos: 1 }),
      ),
    );
    const connection = await amqpConnect(BUS_URL!);
    try {
      const channel = await connection.createChannel();
      expect((await channel.checkQueue(topology.queue('fault-feedback', partition))).messageCount).toBe(1);

      const attempts = new Map<string, number>();
      const deadLettered: string[] = [];
      const server = new RabbitMqServer({ config, group: 'fault-feedback', log });
      server.onDeadLettered = (kind, why) => deadLettered.push(`${kind} ${why}`);
      server.addHandler(
        topicPatterns.faults,
        async (payload: Buffer) => {
          const { sn } = JSON.parse(payload.toString('utf8')) as { sn: string };
          attempts.set(sn, (attempts.get(sn) ?? 0) + 1);
          if (sn === poisoned) throw new Error('this report cannot be stored');
        },
        true,
      );
      await listen(server);
      try {
        await eventually(async () => deadLettered.length === 1, 30_000);
      } finally {
        await server.close();
      }
      expect(deadLettered).toEqual(['faults failed']);
      expect(Object.fromEntries(attempts)).toEqual(
        Object.fromEntries(batchSns.map((sn) => [sn, sn === poisoned ? config.deliveryLimit : 1])),
      );
      const letter = await channel.get(topology.deadLetterQueue('fault-feedback'), { noAck: true });
      expect(letter && letter.properties.headers?.[TOPIC_HEADER]).toBe(topics.faults(poisoned));
      expect(letter && letter.properties.headers?.[FAILURE_HEADER]).toBe('this report cannot be stored');
      expect(letter && JSON.parse(letter.content.toString('utf8'))).toEqual({ sn: poisoned, seq: 1 });
      expect((await channel.checkQueue(topology.queue('fault-feedback', partition))).messageCount).toBe(0);
    } finally {
      await connection.close();
    }
  }, 60_000);
});
