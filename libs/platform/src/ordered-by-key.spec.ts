import { describe, expect, it } from '@jest/globals';
import { OrderedByKey } from './ordered-by-key.js';

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OrderedByKey', () => {
  it('runs one key in order, other keys alongside, and forgets keys with nothing left', async () => {
    const queue = new OrderedByKey();
    const log: string[] = [];
    const slow = queue.run('a', async () => (await later(30), log.push('a1')));
    const fast = queue.run('a', async () => log.push('a2'));
    const other = queue.run('b', async () => log.push('b1'));
    await Promise.all([slow, fast, other]);
    expect(log).toEqual(['b1', 'a1', 'a2']);
    await later(0);
    expect(queue.size).toBe(0);
  });

  it('goes on after a failure, which reaches only its own caller', async () => {
    const queue = new OrderedByKey();
    const failed = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
