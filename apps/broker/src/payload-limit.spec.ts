import { describe, expect, it } from '@jest/globals';
import { exceedsPayloadLimit, payloadBytes } from './payload-limit.js';

describe('the payload-size rule', () => {
  it.each([
    [Buffer.alloc(4096), false],
    [Buffer.alloc(4097), true],
    ['x'.repeat(4096), false],
    // counted in bytes, not characters: 2,049 two-byte characters are 4,098 bytes
    ['é'.repeat(2049), true],
    [undefined, false],
  ])('a payload of %#: over 4,096 bytes = %s', (payload, over) => {
    expect(exceedsPayloadLimit(payload, 4096)).toBe(over);
  });

  it('measures strings in UTF-8 bytes', () => {
    expect(payloadBytes('é')).toBe(2);
    expect(payloadBytes(Buffer.from('{}'))).toBe(2);
    expect(payloadBytes(undefined)).toBe(0);
  });
});
