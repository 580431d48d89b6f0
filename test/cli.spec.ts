import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { progress, withValuesJoined } from '../scripts/cli.js';

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

describe('option values', () => {
  const options = { sn: { type: 'string' }, secret: { type: 'string' }, stay: { type: 'boolean' } } as const;

  it('takes the word after an option that needs a value even when it starts with a dash (a base64url secret or token)', () => {
    expect(withValuesJoined(['--sn', 'SN-1', '--secret', '-Jg_x', '--stay'], options)).toEqual([
      '--sn',
      'SN-1',
      '--secret=-Jg_x',
      '--stay',
    ]);
    expect(withValuesJoined(['--secret', '--Jg'], options)).toEqual(['--secret=--Jg']);
  });

  it('leaves a missing value missing, a boolean flag alone, and everything after -- as it is', () => {
    expect(withValuesJoined(['--secret', '--stay'], options)).toEqual(['--secret', '--stay']);
    expect(withValuesJoined(['--secret', '--sn=SN-1'], options)).toEqual(['--secret', '--sn=SN-1']);
    expect(withValuesJoined(['--stay', '-x'], options)).toEqual(['--stay', '-x']);
    expect(withValuesJoined(['--secret=-a', '-b'], options)).toEqual(['--secret=-a', '-b']);
    expect(withValuesJoined(['--', '--secret', '-a'], options)).toEqual(['--', '--secret', '-a']);
  });
});
