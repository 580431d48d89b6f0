import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeBatch, encodeBatch } from './device-batch.js';

describe('device batches', () => {
  it('give back the messages they were made of, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ topic: fc.string({ unit: 'grapheme' }), payload: fc.uint8Array().map((bytes) => Buffer.from(bytes)) })),
        (messages) => {
          expect(decodeBatch(encodeBatch(messages), messages.length)).toEqual(messages);
        },
      ),
    );
  });

  it('refuse a body that is cut short, runs on, or holds another count', () => {
    const body = encodeBatch([
      { topic: 'devices/A1/faults', payload: Buffer.from('{"a":1}') },
      { topic: 'devices/A2/faults', payload: Buffer.from('{"b":2}') },
    ]);
    expect(decodeBatch(body, 2)).not.toBeNull();
    expect(decodeBatch(body.subarray(0, body.length - 1), 2)).toBeNull();
    expect(decodeBatch(Buffer.concat([body, Buffer.from([0])]), 2)).toBeNull();
    expect(decodeBatch(body, 3)).toBeNull();
    expect(decodeBatch(body, 1)).toBeNull();
  });
});
