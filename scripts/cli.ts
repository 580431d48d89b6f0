import { parseArgs, type ParseArgsConfig } from 'node:util';

// What every command-line tool here shares: arguments by node:util parseArgs, and progress
// that suits where stderr goes (a terminal redrawn in place, a CI log in plain lines).

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O & { help: { type: 'boolean' } }; allowPositionals: true; strict: true }>
>;

/**
 * Parses process.argv strictly: `--help` prints the usage and exits 0; an unknown flag, a
 * missing value or more than `maxPositionals` plain arguments print the reason and the usage
 * on stderr and exit 2.
 */
export function commandLine<O extends Options>(usage: string, options: O, maxPositionals = 0): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ options: { ...options, help: { type: 'boolean' } }, allowPositionals: true, strict: true }) as Parsed<O>;
  } catch (error) {
    usageError(usage, error instanceof Error ? error.message : String(error));
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (parsed.positionals.length > maxPositionals) usageError(usage, `Unexpected argument '${parsed.positionals[maxPositionals]}'`);
  return parsed;
}

/** The reason, then the usage, on stderr; exit code 2 (wrong invocation). */
export function usageError(usage: string, reason?: string): never {
  process.stderr.write(`${reason ? `${reason}\n` : ''}${usage}\n`);
  process.exit(2);
}

export interface Progress {
  /** The current state in one line; shown now or skipped, depending on how recently one was shown. */
  update(line: string): void;
  /** The final state, always shown, ending the line. */
  done(line: string): void;
}

export interface ProgressOptions {
  /** Plain lines (no terminal) at most this often; default 5 s. A terminal is redrawn up to ten times a second. */
  plainEveryMs?: number;
  now?: () => number;
}

/**
 * On a terminal, one line redrawn in place (`\r`); anywhere else (a pipe, a CI log) no
 * control characters: a plain line now and then, and the final one.
 */
export function progress(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr, options: ProgressOptions = {}): Progress {
  const now = options.now ?? Date.now;
  const terminal = Boolean(stream.isTTY);
  const every = terminal ? 100 : (options.plainEveryMs ?? 5000);
  let last = -Infinity;
  return {
    update(line) {
      const at = now();
      if (at - last < every) return;
      last = at;
      stream.write(terminal ? `\r\x1b[K${line}` : `${line}\n`);
    },
    done(line) {
      stream.write(terminal ? `\r\x1b[K${line}\n` : `${line}\n`);
    },
  };
}
