import { runnerOf, writePresence, type SqlRunner, type SqlSource } from './broker-devices.repository.js';

const ROWS_PER_STATEMENT = 5000;

/**
 * Collects devices' last-seen times and online flags in memory and writes them
 * every few seconds in one `UPDATE ... FROM (VALUES ...)`, instead of one
 * UPDATE per ping or message.
 */
export class PresenceRecorder {
  private pending = new Map<string, { at: Date; online: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  writes = 0;

  private readonly run: SqlRunner;

  constructor(
    source: SqlSource,
    private readonly flushMs: number,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.run = runnerOf(source);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  seen(sn: string, online = true, at = new Date()): void {
    this.pending.set(sn, { at, online });
  }

  get backlog(): number {
    return this.pending.size;
  }

  /** Writes what was collected; a failed write is retried with the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending = new Map();
    for (let start = 0; start < batch.length; start += ROWS_PER_STATEMENT) {
      const slice = batch.slice(start, start + ROWS_PER_STATEMENT);
      try {
        await writePresence(this.run, slice);
        this.writes += 1;
      } catch (error) {
        for (const [sn, state] of slice) if (!this.pending.has(sn)) this.pending.set(sn, state);
        this.onError(error);
      }
    }
  }
}
