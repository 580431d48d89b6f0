import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MqttContext, Payload } from '@nestjs/microservices';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { ReliableMqttServer } from './reliable-mqtt.server.js';

/** Handlers wait on these, so the test decides when each message's "commit" happens. */
const gates = new Map<string, { release: () => void; fail: (error: Error) => void; started: boolean }>();
let firstFailureSeen = false;

function gate(id: string) {
  let release!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  gates.set(id, { release, fail, started: false });
  return promise;
}

@Controller()
class ProbeHandler {
  @EventPattern('probe/+')
  async handle(@Payload() payload: Buffer, @Ctx() context: unknown): Promise<void> {
    const body = JSON.parse(payload.toString('utf8')) as { id: string; failOnce?: boolean };
    // Nest 12 types handler arguments after the payload as unknown.
    expect((context as MqttContext).getTopic()).toBe(`probe/${body.id}`);
    if (body.failOnce && !firstFailureSeen) {
      firstFailureSeen = true;
      throw new Error('database unreachable');
    }
    const waiting = gates.get(body.id);
    if (!waiting) return;
    waiting.started = true;
    await waitFor(body.id);
  }
}
const pending = new Map<string, Promise<void>>();
const waitFor = (id: string) => pending.get(id)!;

@Module({ controllers: [ProbeHandler] })
class ProbeModule {}

describe('ReliableMqttServer', () => {
  let broker: Aedes;
  let server: Server;
  let url: string;
  let service: INestMicroservice;
  let strategy: ReliableMqttServer;
  const acked: number[] = [];

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    broker.on('ack', (packet, client) => {
      if (client?.id === 'probe-service' && packet && 'messageId' in packet) acked.push(packet.messageId!);
    });
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    strategy = new ReliableMqttServer({ url, clientId: 'probe-service', clean: false, subscribeOptions: { qos: 1 } });
    service = await NestFactory.createMicroservice(ProbeModule, { strategy, logger: false });
    await service.listen();
  });

  afterAll(async () => {
    await service?.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    server.close();
  });

  async function publish(id: string, extra: Record<string, unknown> = {}) {
    const device = await mqtt.connectAsync(url, { clientId: `device-${id}` });
    await device.publishAsync(`probe/${id}`, JSON.stringify({ id, ...extra }), { qos: 1 });
    await device.endAsync();
  }

  async function until(predicate: () => boolean, what: string) {
    for (let tries = 0; tries < 200; tries += 1) {
      if (predicate()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('acknowledges each message only after its handler finished, with several in work at once', async () => {
    pending.set('a', gate('a'));
    pending.set('b', gate('b'));
    await publish('a');
    await publish('b');
    await until(() => gates.get('a')!.started && gates.get('b')!.started, 'both handlers to start');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(acked).toHaveLength(0);

    gates.get('b')!.release();
    await until(() => acked.length === 1, 'the first PUBACK');
    gates.get('a')!.release();
    await until(() => acked.length === 2, 'the second PUBACK');
  });

  it('never acknowledges a message whose handler failed; the broker delivers it again after a reconnect', async () => {
    const before = acked.length;
    await publish('c', { failOnce: true });
    await until(() => strategy.failedMessages === 1, 'the failure');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(acked.length).toBe(before);

    // A reconnect (as after a restart) makes the broker resend what was not acknowledged.
    const client = strategy.unwrap<mqtt.MqttClient>();
    client.stream.destroy();
    await until(() => acked.length === before + 1, 'the redelivered message to be acknowledged');
  });
});
