import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { progress } from '../scripts/cli.js';

function stream(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(sink, { isTTY, text: () => text });
}

describe('progress on stderr', () => {
  it('on a terminal, redraws one line in place at most ten times a second', () => {
    let now = 0;
    const tty = stream(true);
    const shown = progress(tty, { now: () => now });
    for (now = 0; now < 1000; now += 10) shown.update(`step ${now}`);
    shown.done('finished');
    const frames = tty.text().split('\r\x1b[K').filter(Boolean);
    expect(frames.length).toBe(11);
    expect(frames[0]).toBe('step 0');
    expect(frames.at(-1)).toBe('finished\n');
    expect(tty.text().split('\n')).toHaveLength(2);
  });

  it('elsewhere (a pipe, a CI log), plain lines now and then and the last one, no control characters', () => {
    let now = 0;
    const pipe = stream(false);
    const shown = progress(pipe, { now: () => now, plainEveryMs: 5000 });
    for (now = 0; now <= 12_000; now += 100) shown.update(`at ${now}`);
    shown.done('finished');
    expect(pipe.text()).toBe('at 0\nat 5000\nat 10000\nfinished\n');
    expect(controlCharacters(pipe.text())).toEqual([]);
  });
});

/** Carriage returns and escape sequences: what a progress line redrawn in place leaves in a log. */
function controlCharacters(text: string): string[] {
  return [...text].filter((char) => char === '\r' || char === '\u001b');
}
