import { afterEach, describe, expect, it } from '@jest/globals';
import { Aedes } from 'aedes';
import { boundEmitterDrain } from './aedes-workarounds.js';

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
