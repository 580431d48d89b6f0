import pg from 'pg';

const RETAKE_MS = 2000;

/**
 * Without a message bus each service has one MQTT consumer, with a fixed
 * client id: a second process with the same id would take its session over
 * and back again, forever. A PostgreSQL advisory lock per consumer, held on a
 * connection of its own for the life of the process, lets only one run.
 * Should that connection drop (PostgreSQL restarted), the lock is taken again
 * on a new one; meanwhile `isHeld` is false and /health says so.
 */
export class SingleConsumerLockRepository {
  private client: pg.Client | undefined;
  private held = false;
  private released = false;
  private retake: NodeJS.Timeout | undefined;

  private constructor(
    private readonly databaseUrl: string,
    private readonly consumer: string,
  ) {}

  /** The lock, or undefined when another process holds it. */
  static async acquire(databaseUrl: string, consumer: string): Promise<SingleConsumerLockRepository | undefined> {
    const lock = new SingleConsumerLockRepository(databaseUrl, consumer);
    return (await lock.take()) ? lock : undefined;
  }

  /** Still held (for /health): false while its connection is gone. */
  get isHeld(): boolean {
    return this.held;
  }

  async release(): Promise<void> {
    this.released = true;
    this.held = false;
    clearTimeout(this.retake);
    await this.client?.end().catch(() => undefined);
  }

  private async take(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: `${this.consumer} (single consumer)` });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
        `device-consumer:${this.consumer}`,
      ]);
      if (!rows[0]?.locked || this.released) {
        await client.end();
        return false;
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.held = true;
    return true;
  }

  private lost(client: pg.Client): void {
    if (client !== this.client || this.released) return;
    this.client = undefined;
    this.held = false;
    const again = () => {
      this.retake = setTimeout(() => {
        this.take().then(
          (taken) => taken || again(),
          () => again(),
        );
      }, RETAKE_MS);
    };
    again();
  }
}
