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
  const all = { ...options, help: { type: 'boolean' as const } };
  try {
    parsed = parseArgs({
      args: withValuesJoined(process.argv.slice(2), all),
      options: all,
      allowPositionals: true,
      strict: true,
    }) as Parsed<O>;
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

/**
 * `--secret -Jg…` as `--secret=-Jg…`: an option that takes a value takes the next word, even
 * one that starts with a dash (device secrets and pairing tokens are base64url, so one in 64
 * does), where parseArgs would call it ambiguous. Unless that word is itself one of the
 * (long) options: then the value is missing, and parseArgs says so.
 */
export function withValuesJoined(args: readonly string[], options: Options): string[] {
  const optionOf = (word: string) => {
    const name = word.slice(2).split('=')[0];
    return word.startsWith('--') && Object.hasOwn(options, name) ? options[name] : undefined;
  };
  const takesValue = (word: string) => !word.includes('=') && optionOf(word)?.type === 'string';
  const joined: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const [arg, next] = [args[index], args[index + 1]];
    if (arg === '--') return [...joined, ...args.slice(index)];
    if (takesValue(arg) && next?.startsWith('-') && !optionOf(next)) {
      joined.push(`${arg}=${next}`);
      index += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
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
