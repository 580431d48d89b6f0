import { describe, expect, it } from '@jest/globals';
import type { Client } from 'aedes';
import { wentOffline } from './presence.js';

describe('the presence takeover rule', () => {
  const ended = { id: 'SN-0001' } as Client;
  const newer = { id: 'SN-0001' } as Client;

  it.each([
    ['the node holds no connection of the SN any more', undefined, true],
    ['the node still lists the connection that ended', ended, true],
    ['the device already reconnected on this node', newer, false],
  ])('%s: offline = %s', (_label, holding, offline) => {
    expect(wentOffline(ended, holding)).toBe(offline);
  });
});
