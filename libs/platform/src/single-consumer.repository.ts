import pg from 'pg';

/**
 * Without a message bus each service has one MQTT consumer, with a fixed
 * client id: a second process with the same id would take its session over
 * and back again, forever. A PostgreSQL advisory lock per consumer, held on a
 * connection of its own for the life of the process, lets only one run.
 */
export class SingleConsumerLockRepository {
  private constructor(
    private readonly client: pg.Client,
    private held: boolean,
  ) {}

  /** The lock, or undefined when another process holds it. */
  static async acquire(databaseUrl: string, consumer: string): Promise<SingleConsumerLockRepository | undefined> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: `${consumer} (single consumer)` });
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
        `device-consumer:${consumer}`,
      ]);
      if (!rows[0]?.locked) {
        await client.end();
        return undefined;
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    const lock = new SingleConsumerLockRepository(client, true);
    // The lock lives as long as this connection: once it is gone, another process may take the consumer.
    client.on('error', () => (lock.held = false));
    client.on('end', () => (lock.held = false));
    return lock;
  }

  /** Still held (for /health): false once its connection dropped. */
  get isHeld(): boolean {
    return this.held;
  }

  async release(): Promise<void> {
    this.held = false;
    await this.client.end().catch(() => undefined);
  }
}
