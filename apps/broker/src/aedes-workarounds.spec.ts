import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import mqtt from 'mqtt';
import { boundEmitterDrain, deliverAfterConnack } from './aedes-workarounds.js';

interface Emitter {
  on(topic: string, notify: (packet: unknown, done: () => void) => void, done?: () => void): void;
  emit(packet: { topic: string; payload: Buffer }, callback?: (error?: Error) => void): void;
}

const QUEUED = 20_000;

/**
 * A slow subscriber holds every in-flight slot (Aedes' concurrency, 100), then
 * thousands of messages nobody subscribes to queue up behind it, as `$SYS`
 * disconnect notices do when many devices drop at once; releasing the slots
 * drains the queue.
 */
async function drainAfterSlowSubscriber(broker: Aedes): Promise<{ finished: string[]; error?: unknown }> {
  const mq = (broker as unknown as { mq: Emitter }).mq;
  const held: Array<() => void> = [];
  await new Promise<void>((resolve) => mq.on('slow', (_packet, done) => void held.push(done), resolve));
  const finished: string[] = [];
  for (let i = 0; i < 100; i += 1) mq.emit({ topic: 'slow', payload: Buffer.alloc(0) });
  for (let i = 0; i < QUEUED; i += 1) mq.emit({ topic: `nobody/${i}`, payload: Buffer.alloc(0) }, () => void finished.push(String(i)));
  try {
    for (const done of held) done();
  } catch (error) {
    return { finished, error };
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { finished };
}

describe('boundEmitterDrain', () => {
  let broker: Aedes | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
    broker = undefined;
  });

  it("is still needed: mqemitter's own drain overflows the stack on a long queue", async () => {
    broker = await Aedes.createBroker();
    const { error } = await drainAfterSlowSubscriber(broker);
    // When an upgrade makes this fail, the workaround can go.
    expect(error).toBeInstanceOf(RangeError);
  });

  it('drains the whole queue in order without overflowing the stack', async () => {
    broker = await Aedes.createBroker();
    boundEmitterDrain(broker);
    const { finished, error } = await drainAfterSlowSubscriber(broker);
    expect(error).toBeUndefined();
    expect(finished).toHaveLength(QUEUED);
    expect(finished).toEqual(Array.from({ length: QUEUED }, (_, i) => String(i)));
    expect((broker as unknown as { mq: { current: number } }).mq.current).toBe(0);
  });
});

/**
 * A persistent session comes back while a message for it is published: the
 * will step (the one between restoring its subscriptions and the CONNACK) is
 * slowed to 300 ms so the message falls in that window every time. Answers
 * the packets the client received, in order, and whether it connected.
 */
async function reconnectWhilePublished(hold: boolean): Promise<{ packets: string[]; connected: boolean; message?: string }> {
  const broker = await Aedes.createBroker({
    authenticate: (client: Client, _username, _password, done) => {
      if (hold) deliverAfterConnack(client);
      done(null, true);
    },
  });
  const persistence = (broker as unknown as { persistence: { delWill(client: unknown): Promise<unknown> } }).persistence;
  const delWill = persistence.delWill.bind(persistence);
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const first = await mqtt.connectAsync(url, { clientId: 'persistent', clean: false, reconnectPeriod: 0 });
    await first.subscribeAsync('t', { qos: 1 });
    await first.endAsync();
    persistence.delWill = async (client) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return delWill(client);
    };
    const packets: string[] = [];
    const back = mqtt.connect(url, { clientId: 'persistent', clean: false, reconnectPeriod: 0, connectTimeout: 1500 });
    back.on('packetreceive', (packet) => packets.push(packet.cmd));
    back.on('error', () => undefined);
    const message = new Promise<string>((resolve) => back.on('message', (_topic, payload) => resolve(payload.toString())));
    await new Promise((resolve) => setTimeout(resolve, 150));
    broker.publish(
      { cmd: 'publish', topic: 't', payload: Buffer.from('while connecting'), qos: 1, retain: false, dup: false },
      () => undefined,
    );
    const connected = await new Promise<boolean>((resolve) => {
      back.once('connect', () => resolve(true));
      back.once('close', () => resolve(false));
    });
    const received = connected ? await Promise.race([message, new Promise<undefined>((resolve) => setTimeout(resolve, 1000))]) : undefined;
    back.end(true);
    return { packets, connected, message: received };
  } finally {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('deliverAfterConnack', () => {
  it("is still needed: Aedes writes a restored session's message before its CONNACK, and mqtt.js never connects", async () => {
    const { packets, connected } = await reconnectWhilePublished(false);
    // When an upgrade makes this fail, the workaround can go.
    expect(packets[0]).toBe('publish');
    expect(connected).toBe(false);
  });

  it('sends the CONNACK first, then the message', async () => {
    const { packets, connected, message } = await reconnectWhilePublished(true);
    expect(connected).toBe(true);
    expect(packets[0]).toBe('connack');
    expect(packets).toContain('publish');
    expect(message).toBe('while connecting');
  });
});
