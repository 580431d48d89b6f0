import { Logger } from '@nestjs/common';
import { MqttContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { finalize, isObservable, lastValueFrom } from 'rxjs';
import { DEVICE_UPSTREAM, topicPatterns, type DeviceTopicKind } from '#libs/mqtt-contract';
import type { MqttPublishClient } from '../mqtt-link.js';
import type { DeviceMessageSink, InProcessBroker, OutgoingDeviceMessage, ServicePublish } from './device-message-sink.js';

/** How long a message waits for a consumer of its kind (one that is starting or restarting) before the publish is refused. */
const CONSUMER_WAIT_MS = 30_000;

const KIND_OF_PATTERN = new Map<string, DeviceTopicKind>(
  (Object.entries(topicPatterns) as Array<[DeviceTopicKind, string]>).map(([kind, pattern]) => [pattern, kind]),
);

interface Waiting {
  message: OutgoingDeviceMessage;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class NoDeviceMessageConsumerError extends Error {
  override name = 'NoDeviceMessageConsumerError';
}

/**
 * `npm start`: the broker and the services share one process, so a device
 * message goes from the broker's authorizePublish straight to the service's
 * @EventPattern handler, with no second MQTT hop. `put` resolves once the
 * handler has (its commit), so the broker writes the device's PUBACK only
 * then; a handler that fails rejects it, the broker refuses the publish and
 * the device sends it again. While no consumer of a kind is running (the
 * services are still starting, or one restarts) its messages wait, unacknowledged.
 *
 * Order: `put` is called in the order the broker reads a device's messages
 * and hands each to the handler at once, in that order; handlers that must
 * keep one device's messages in sequence queue them by SN from there, as they
 * do for any carrier.
 *
 * The other way, a service's `link` publishes through the broker of this
 * process too (attachBroker), with no MQTT connection of its own: the same
 * checks, none of the encoding, socket and parsing of a second hop.
 */
export class InProcessDeviceMessages {
  private readonly consumers = new Map<DeviceTopicKind, InProcessConsumer[]>();
  private readonly waiting = new Map<DeviceTopicKind, Waiting[]>();
  /** Kinds some consumer of this process has handlers for. */
  private readonly claimed = new Set<DeviceTopicKind>();
  private everyConsumerStarted = false;
  private closed = false;
  private broker?: InProcessBroker;

  readonly sink: DeviceMessageSink = {
    // Until every service has started, any upstream kind may still find its consumer; then only those claimed.
    carries: (kind) => DEVICE_UPSTREAM.includes(kind) && (!this.everyConsumerStarted || this.claimed.has(kind)),
    put: (message) => this.put(message),
    get ready() {
      return true;
    },
    close: () => this.close(),
  };

  /**
   * Every service of the process has started: a kind none of them handles is
   * not carried from now on (the broker routes it as any other message),
   * instead of waiting for a consumer that will never come.
   */
  allConsumersStarted(): void {
    this.everyConsumerStarted = true;
    for (const [kind, queue] of this.waiting) {
      if (this.claimed.has(kind)) continue;
      this.waiting.delete(kind);
      for (const entry of queue) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
    }
  }

  /** The broker of this process started: the services' links publish through it from now on. */
  attachBroker(broker: InProcessBroker): void {
    this.broker = broker;
  }

  /**
   * A service's link to devices through the broker of this process, as its
   * service account (checked once, as at CONNECT). The broker starts first.
   */
  link(account: { username: string; password: string }, clientId: string): MqttPublishClient {
    if (!this.broker) throw new Error('no broker in this process yet: start the broker before the services');
    return new InProcessPublishClient(this.broker.openLink(account, clientId));
  }

  /** The Nest transport of one service: hand it to connectMicroservice({ strategy }). */
  consumer(name: string): InProcessConsumer {
    return new InProcessConsumer(name, this);
  }

  private put(message: OutgoingDeviceMessage): Promise<void> {
    const consumers = this.consumers.get(message.kind);
    if (consumers?.length === 1) return consumers[0].deliver(message);
    if (consumers) return Promise.all(consumers.map((consumer) => consumer.deliver(message))).then(() => undefined);
    if (this.closed) return Promise.reject(new NoDeviceMessageConsumerError('in-process hand-off closed'));
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(message.kind) ?? [];
      this.waiting.set(message.kind, queue);
      const entry: Waiting = {
        message,
        resolve,
        reject,
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(entry), 1);
          reject(new NoDeviceMessageConsumerError(`no consumer of ${message.kind} messages`));
        }, CONSUMER_WAIT_MS),
      };
      queue.push(entry);
    });
  }

  /** @internal A consumer started: it takes its kinds, and what waited for them, in arrival order. */
  attach(consumer: InProcessConsumer, kinds: DeviceTopicKind[]): void {
    for (const kind of kinds) {
      this.claimed.add(kind);
      this.consumers.set(kind, [...(this.consumers.get(kind) ?? []), consumer]);
      const queue = this.waiting.get(kind) ?? [];
      this.waiting.delete(kind);
      for (const entry of queue) {
        clearTimeout(entry.timer);
        this.put(entry.message).then(entry.resolve, entry.reject);
      }
    }
  }

  /** @internal */
  detach(consumer: InProcessConsumer): void {
    for (const [kind, consumers] of this.consumers) {
      const left = consumers.filter((candidate) => candidate !== consumer);
      if (left.length) this.consumers.set(kind, left);
      else this.consumers.delete(kind);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const queue of this.waiting.values()) {
      for (const entry of queue) {
        clearTimeout(entry.timer);
        entry.reject(new NoDeviceMessageConsumerError('in-process hand-off closed'));
      }
    }
    this.waiting.clear();
  }
}

/**
 * The services' side of the in-process hand-off: a Nest custom transport
 * that calls the @EventPattern(topicPatterns.X) handlers with an
 * `MqttContext([topic, packet])`, exactly what the MQTT consumer hands them,
 * so `readDeviceMessage` reads it unchanged. The handler's promise is the
 * message's acknowledgement.
 */
export class InProcessConsumer extends Server implements CustomTransportStrategy {
  override readonly propagatesEventHandlerErrors = true;
  private listening = false;
  private readonly routes = new Map<DeviceTopicKind, MessageHandler>();
  /** Told of every message once its handler is done (metrics). */
  onSettled?: (channel: string, outcome: 'handled' | 'failed') => void;

  constructor(
    readonly name: string,
    private readonly hub: InProcessDeviceMessages,
  ) {
    super();
  }

  /** Up while its handlers are attached to the broker of this process (for /health). */
  get ready(): boolean {
    return this.listening;
  }

  listen(callback: () => void): void {
    const kinds: DeviceTopicKind[] = [];
    for (const [pattern, handler] of this.getHandlers()) {
      const kind = KIND_OF_PATTERN.get(pattern);
      if (!kind) {
        new Logger(this.name).error(`@EventPattern(${pattern}) is no device topic pattern: never called in-process`);
        continue;
      }
      this.routes.set(kind, handler);
      kinds.push(kind);
    }
    this.listening = true;
    this.hub.attach(this, kinds);
    callback();
  }

  close(): void {
    this.listening = false;
    this.hub.detach(this);
  }

  on(): void {
    // No transport events: nothing here connects or drops.
  }

  unwrap<T>(): T {
    return this.hub as T;
  }

  /** @internal Runs the handler of the message's kind; resolves when it has, rejects when it failed. */
  deliver(message: OutgoingDeviceMessage): Promise<void> {
    const handler = this.routes.get(message.kind)!;
    const packet = { cmd: 'publish', topic: message.topic, payload: message.payload, qos: message.qos, retain: false, dup: false };
    const context = new MqttContext([message.topic, packet as never]);
    const work = runEventHandler(this, handler, message.payload, context);
    if (this.onSettled) {
      const settled = this.onSettled;
      work.then(
        () => settled(message.topic, 'handled'),
        () => settled(message.topic, 'failed'),
      );
    }
    return work;
  }

  /** Exposes Nest's processing hooks to runEventHandler. */
  runHooked(context: MqttContext, work: (runEndHook: () => void) => Promise<void>): Promise<void> | undefined {
    return this.runWithProcessingHooks(context, work) as unknown as Promise<void> | undefined;
  }
}

/** Like Nest's Kafka server: waits for the handler (and its stream), so its failure reaches the caller. */
async function runEventHandler(consumer: InProcessConsumer, handler: MessageHandler, data: Buffer, context: MqttContext): Promise<void> {
  await consumer.runHooked(context, async (runEndHook) => {
    const resultOrStream: unknown = await handler(data, context);
    if (isObservable(resultOrStream)) await lastValueFrom(resultOrStream.pipe(finalize(runEndHook)), { defaultValue: undefined });
    else runEndHook();
  });
}

/**
 * The services' side of the in-process link: mqtt.js's publishAsync, done by
 * the broker of this process. Connected once the broker accepted the account;
 * a publish made before that waits for it, and one after endAsync is refused.
 */
class InProcessPublishClient implements MqttPublishClient {
  private publish?: (message: ServicePublish) => Promise<void>;
  private ended = false;

  constructor(private readonly opening: Promise<(message: ServicePublish) => Promise<void>>) {
    opening.then(
      (publish) => (this.publish = publish),
      () => undefined, // every publish rejects with the reason
    );
  }

  get connected(): boolean {
    return !this.ended && this.publish !== undefined;
  }

  async publishAsync(topic: string, message: string | Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    if (this.ended) throw new Error('in-process MQTT link closed');
    const publish = this.publish ?? (await this.opening);
    await publish({
      topic,
      payload: typeof message === 'string' ? Buffer.from(message) : message,
      qos: options.qos,
      retain: options.retain ?? false,
    });
  }

  async endAsync(): Promise<void> {
    this.ended = true;
  }
}
