import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';

export interface BusConnectionOptions {
  url: string;
  /** Names the connection in RabbitMQ's list (which app, which process). */
  name: string;
  log: Logger;
  /**
   * Run on every new connection before it counts as ready: declare, consume.
   * `openChannel` opens further confirm channels on the same connection; they
   * go with it when it drops.
   */
  setup(channel: ConfirmChannel, openChannel: () => Promise<ConfirmChannel>): Promise<void>;
  /** Told when the channel in use is gone (connection lost or closed). */
  onLost?(): void;
  reconnectMs?: number;
}

/**
 * One AMQP connection with its main confirm channel, opened again whenever
 * it drops (RabbitMQ restarted, a network cut), with `setup` run each time.
 * `channel` is undefined while there is none.
 */
export class BusConnection {
  private model?: ChannelModel;
  private current?: ConfirmChannel;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private opening?: Promise<void>;
  private loggedDown = false;

  constructor(private readonly options: BusConnectionOptions) {}

  get channel(): ConfirmChannel | undefined {
    return this.current;
  }

  get ready(): boolean {
    return this.current !== undefined;
  }

  /** Opens the first connection; rejects (with RabbitMQ's reason) when it cannot be made, so boot stops with one line. */
  async start(): Promise<void> {
    await this.open();
  }

  private open(): Promise<void> {
    this.opening ??= this.tryOpen().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async tryOpen(): Promise<void> {
    const { log } = this.options;
    const model = await connect(withHeartbeat(this.options.url), {
      clientProperties: { connection_name: this.options.name },
      timeout: 5000,
    });
    try {
      const channel = await model.createConfirmChannel();
      model.on('error', (error: Error) => log.warn({ err: redactError(error) }, 'event bus connection error'));
      channel.on('error', (error: Error) => log.warn({ err: redactError(error) }, 'event bus channel error'));
      const lost = () => this.lost(model, channel);
      model.on('close', lost);
      channel.on('close', lost);
      const openChannel = async () => {
        const extra = await model.createConfirmChannel();
        extra.on('error', (error: Error) => log.warn({ err: redactError(error) }, 'event bus channel error'));
        return extra;
      };
      await this.options.setup(channel, openChannel);
      if (this.closed) {
        await model.close().catch(() => undefined);
        return;
      }
      this.model = model;
      this.current = channel;
      if (this.loggedDown) log.info('event bus connection back');
      this.loggedDown = false;
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
  }

  private lost(model: ChannelModel, channel: ConfirmChannel): void {
    if (this.model !== model && this.current !== channel) return;
    this.current = undefined;
    this.model = undefined;
    void model.close().catch(() => undefined);
    this.options.onLost?.();
    if (this.closed) return;
    if (!this.loggedDown) this.options.log.warn('event bus connection lost; reconnecting');
    this.loggedDown = true;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open().catch((error: unknown) => {
        this.options.log.debug({ err: redactError(error) }, 'event bus not reachable yet');
        this.scheduleReconnect();
      });
    }, this.options.reconnectMs ?? 500);
    this.timer.unref?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.opening?.catch(() => undefined);
    const model = this.model;
    this.model = undefined;
    this.current = undefined;
    await model?.close().catch(() => undefined);
  }
}

/** A heartbeat of a few seconds, unless the URL sets one: a cut that sends no FIN is noticed in seconds, not minutes. */
function withHeartbeat(value: string): string {
  const url = new URL(value);
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', '5');
  return url.toString();
}

/** amqplib errors may quote the URL (with its password); keep the message only, without credentials. */
export function redactError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/amqps?:\/\/[^@\s]*@/g, 'amqp://***@');
}
