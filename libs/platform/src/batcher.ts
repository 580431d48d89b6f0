/**
 * Collects work items for a short window (or until a batch is full) and runs
 * them together, so a burst (devices reconnecting after an outage) costs one
 * transaction per batch instead of one per item. Each submit() resolves with
 * its own item's answer once the batch holding it has run.
 *
 * Failures: an error the `isTransient` test accepts (database unreachable,
 * connection cut) is retried with backoff, without limit: the callers are
 * MQTT handlers whose messages stay unacknowledged meanwhile, so nothing is
 * lost and ingestion resumes by itself when the database is back. Any other
 * error splits the batch and runs its items one by one, so one bad item
 * cannot hold the others; that item's submit() rejects.
 */
export interface BatcherOptions<T, R> {
  run(items: T[]): Promise<R[]>;
  maxSize: number;
  windowMs: number;
  /** Batches in work at once. */
  concurrency: number;
  retryMaxDelayMs: number;
  isTransient(error: unknown): boolean;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
}

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class BatcherClosedError extends Error {
  override name = 'BatcherClosedError';
}

export class Batcher<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private closed = false;
  private readonly wakeups = new Set<() => void>();

  constructor(private readonly options: BatcherOptions<T, R>) {}

  submit(item: T): Promise<R> {
    if (this.closed) return Promise.reject(new BatcherClosedError('the batcher is closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting or in work. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Stops retrying and refuses what is still waiting (their messages stay unacknowledged). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const pending of this.queue.splice(0)) pending.reject(new BatcherClosedError('shutting down'));
    for (const wake of this.wakeups) wake();
  }

  private schedule(): void {
    if (this.running >= this.options.concurrency || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.windowMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.running >= this.options.concurrency || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxSize);
    this.running += 1;
    try {
      await this.runBatch(batch);
    } finally {
      this.running -= 1;
      this.schedule();
    }
  }

  private async runBatch(batch: Array<Pending<T, R>>): Promise<void> {
    try {
      const results = await this.withRetry(() => this.options.run(batch.map((pending) => pending.item)));
      batch.forEach((pending, index) => pending.resolve(results[index]));
    } catch (error) {
      if (batch.length === 1 || error instanceof BatcherClosedError) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      for (const pending of batch) await this.runBatch([pending]);
    }
  }

  private async withRetry<V>(work: () => Promise<V>): Promise<V> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (this.closed) throw new BatcherClosedError('shutting down');
        if (!this.options.isTransient(error)) throw error;
        const delayMs = Math.min(this.options.retryMaxDelayMs, 50 * 2 ** Math.min(attempt, 16));
        this.options.onRetry?.(error, attempt, delayMs);
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.wakeups.delete(done);
            resolve();
          };
          const timer = setTimeout(done, delayMs);
          this.wakeups.add(done);
        });
      }
    }
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * Errors that mean "the database cannot be reached right now" rather than
 * "this write is wrong": network errors, PostgreSQL's connection and
 * resource classes (08, 53, 57P), a serialization or deadlock failure (40).
 */
export function isTransientDatabaseError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const candidate = current as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    const code = typeof candidate.code === 'string' ? candidate.code : '';
    if (TRANSIENT_CODES.has(code) || /^(08|53|57P|40)/.test(code)) return true;
    const message = typeof candidate.message === 'string' ? candidate.message : '';
    if (
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|Connection ended|not queryable|the database system is (starting|shutting) up/i.test(
        message,
      )
    )
      return true;
    current = candidate.driverError ?? candidate.cause;
  }
  return false;
}
