import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { topicPatterns, topics } from '#libs/mqtt-contract';
import { readDeviceMessage } from '../device-message.js';
import type { OutgoingDeviceMessage } from './device-message-sink.js';
import { InProcessDeviceMessages } from './in-process.js';

/** What the handler saw, in the order it saw it; a payload `fail` makes it throw, `hold` waits for release(). */
const seen: string[] = [];
const held = new Map<string, () => void>();

@Controller()
class FaultProbe {
  @EventPattern(topicPatterns.faults)
  async receive(@Ctx() context: unknown): Promise<void> {
    const message = readDeviceMessage(context, 'faults');
    if (!message) throw new Error('not a fault report context');
    const body = message.payload.toString('utf8');
    seen.push(`${message.sn}:${body}`);
    if (body === 'fail') throw new Error('commit failed');
    if (body.startsWith('hold')) await new Promise<void>((resolve) => held.set(body, resolve));
  }
}

@Module({ controllers: [FaultProbe] })
class ProbeModule {}

const report = (sn: string, body: string): OutgoingDeviceMessage => ({
  sn,
  kind: 'faults',
  topic: topics.faults(sn),
  payload: Buffer.from(body),
  qos: 1,
});

describe('InProcessDeviceMessages', () => {
  let hub: InProcessDeviceMessages;
  let service: INestMicroservice | undefined;

  async function startService(): Promise<void> {
    service = await NestFactory.createMicroservice(ProbeModule, { strategy: hub.consumer('probe'), logger: false });
    await service.listen();
  }

  beforeAll(() => {
    hub = new InProcessDeviceMessages();
  });

  afterAll(async () => {
    await service?.close();
    await hub.close();
  });

  it('holds a message until a consumer of its kind starts, then hands it over; put resolves after the handler', async () => {
    let done = false;
    const put = hub.sink.put(report('SN-0001', 'early')).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    await startService();
    await put;
    expect(seen).toEqual(['SN-0001:early']);
  });

  it('resolves only once the handler has, and rejects when it fails', async () => {
    let done = false;
    const put = hub.sink.put(report('SN-0002', 'hold-1')).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    held.get('hold-1')!();
    await put;
    const failed = await hub.sink.put(report('SN-0002', 'fail')).then(
      () => 'resolved',
      () => 'rejected',
    );
    expect(failed).toBe('rejected');
  });

  it("hands one device's messages to the handler in the order they were put", async () => {
    seen.length = 0;
    const bodies = Array.from({ length: 50 }, (_, index) => `m${index}`);
    await Promise.all(bodies.map((body) => hub.sink.put(report('SN-0003', body))));
    expect(seen).toEqual(bodies.map((body) => `SN-0003:${body}`));
  });

  it('carries every upstream kind until all consumers started, then only those some consumer handles', () => {
    expect(hub.sink.carries('faults')).toBe(true);
    expect(hub.sink.carries('telemetry')).toBe(true);
    expect(hub.sink.carries('faultsAck')).toBe(false);
    hub.allConsumersStarted();
    expect(hub.sink.carries('faults')).toBe(true);
    expect(hub.sink.carries('telemetry')).toBe(false);
  });
});
