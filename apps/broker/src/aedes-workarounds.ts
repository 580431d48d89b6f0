import { Readable } from 'node:stream';
import type { Aedes, Client } from 'aedes';
import type { Packet } from 'mqtt-packet';

/*
 * Every place the broker reaches past Aedes' declared API. Written against
 * aedes 1.2.0, aedes-persistence-redis 11.2.2 and mqemitter 7; when one of them
 * is upgraded, read this file first. Nothing else in apps/broker casts an
 * Aedes type away.
 */

/**
 * The connection this node holds for a clientId, if any. Aedes 1.2 keeps its
 * local clients in `broker.clients` (keyed by clientId, a null-prototype
 * object) but leaves the map out of its type declarations. Presence needs it
 * to tell a takeover from a disconnect, the credential listener to find the
 * device to close.
 */
export function localClient(broker: Aedes, clientId: string): Client | undefined {
  return (broker as unknown as { clients: Record<string, Client | undefined> }).clients[clientId];
}

/**
 * Messages the emitter is still handing to subscribers. Aedes exposes its
 * emitter only as the untyped `mq` option; mqemitter (and mqemitter-redis,
 * which extends it) count in-flight messages in `current`. The drain waits for
 * it to reach 0.
 */
export function emitterBacklog(broker: Aedes): number {
  return (broker as unknown as { mq?: { current?: number } }).mq?.current ?? 0;
}

/**
 * Aedes 1.2's `close()` closes the emitter but not the persistence it created
 * itself (the in-memory one when no `persistence` option is given), and the
 * instance is not declared; destroying it releases its retained messages and
 * sessions when a node stops inside a longer-lived process (npm start, tests).
 */
export async function destroyOwnPersistence(broker: Aedes): Promise<void> {
  const persistence = (broker as unknown as { persistence?: { destroy?: () => Promise<void> } }).persistence;
  await persistence?.destroy?.();
}

interface RetainedSource {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> | NodeJS.ReadableStream;
}

/**
 * Aedes 1.2 calls `.pipe()` on what `createRetainedStreamCombi` returns, while
 * aedes-persistence-redis 11 returns an async generator: retained messages
 * would throw on the first SUBSCRIBE that matches one. Wrap the generator in
 * a Readable.
 */
export function pipeableRetainedStreams(persistence: RetainedSource): void {
  const original = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => {
    const source = original(patterns);
    return 'pipe' in source ? source : Readable.from(source);
  };
}

interface WillStore {
  putWill(client: { id: string }, packet: { brokerId?: string }): Promise<unknown>;
  delWill(client: { id: string; brokerId?: string }): Promise<unknown>;
}

interface WillOwnerIndex {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
}

const WILL_OWNER = (clientId: string) => `will-owner:${clientId}`;
/** Deletes the owner record only if it still names the broker whose will went. */
const DELETE_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * aedes-persistence-redis 11 keys a will by broker and client
 * (`will:<brokerId>:<clientId>`), and when a client connects Aedes deletes
 * its previous will with `delWill(client)`, but an Aedes client has no
 * `brokerId`, so the key looked up is `will:undefined:<clientId>` and
 * nothing is deleted (moscajs/aedes-persistence-redis#110, closed unmerged).
 * After a node dies, a device that reconnected to another node keeps the
 * dead node's will, and once the dead node's heartbeat is three intervals
 * old the live nodes publish it: the device's "gone" message (a retained
 * `{online:false}` status, say) goes out while it is online. This records,
 * per client, the broker holding its will (beside the will, on the same
 * Redis), so a delete without a broker finds the will wherever it was put.
 */
export function deleteWillsOnReconnect(redisPersistence: object, index: WillOwnerIndex): void {
  // Its type declarations leave the will methods out.
  const persistence = redisPersistence as WillStore;
  const putWill = persistence.putWill.bind(persistence);
  const delWill = persistence.delWill.bind(persistence);
  persistence.putWill = async (client, packet) => {
    const result = await putWill(client, packet);
    if (packet.brokerId) await index.set(WILL_OWNER(client.id), packet.brokerId);
    return result;
  };
  persistence.delWill = async (client) => {
    const brokerId = client.brokerId ?? (await index.get(WILL_OWNER(client.id))) ?? undefined;
    const result = await delWill({ id: client.id, brokerId });
    if (brokerId) await index.eval(DELETE_IF_OWNER, 1, WILL_OWNER(client.id), brokerId);
    return result;
  };
}

type Deliver = (packet: unknown, callback: (error?: unknown) => void) => void;
interface DeliveringClient {
  clean: boolean;
  deliver0: Deliver;
  deliverQoS: Deliver;
  close(this: DeliveringClient, ...args: unknown[]): unknown;
  once(event: 'connected', listener: () => void): unknown;
}

/**
 * Aedes 1.2 restores a persistent session's subscriptions (connect's
 * `restoreSubs`) before it stores the will and writes the CONNACK, and
 * delivers to the client meanwhile: a message published in that window is
 * written before the CONNACK, against MQTT 3.1.1 [MQTT-3.2.0-1]. mqtt.js
 * handles packets one at a time and cannot acknowledge a QoS 1 PUBLISH
 * before it is connected, so it never reads the CONNACK queued behind it:
 * the client fails with "connack timeout" (a service reconnecting to another
 * node while devices report). This holds such a client's deliveries until
 * its connect has finished (CONNACK, then the messages queued while it was
 * away, so the held ones, newer, follow them), and hands them on at once if
 * the connection closes first, so Aedes keeps the session's QoS 1 messages
 * as it would. Clean sessions restore nothing and are left alone.
 */
export function deliverAfterConnack(aedesClient: Client): void {
  const client = aedesClient as unknown as DeliveringClient;
  if (client.clean) return;
  const held: Array<() => void> = [];
  let holding = true;
  const release = () => {
    if (!holding) return;
    holding = false;
    for (const deliver of held.splice(0)) deliver();
  };
  for (const name of ['deliver0', 'deliverQoS'] as const) {
    const deliver = client[name];
    client[name] = (packet, callback) => (holding ? void held.push(() => deliver(packet, callback)) : deliver(packet, callback));
  }
  client.once('connected', release);
  const close = client.close;
  client.close = function closeReleasing(this: DeliveringClient, ...args: unknown[]) {
    release();
    return close.apply(this, args);
  };
}

type Qos = 0 | 1 | 2;
type LowerQos = (client: Client, requested: Qos) => Qos;
interface ClientParser {
  client?: Client;
  _queue?: Packet[] | null;
  prependListener(event: 'packet', listener: (this: ClientParser, packet: Packet) => void): void;
}

const qosListeners = new WeakMap<LowerQos, (this: ClientParser, packet: Packet) => void>();

/**
 * Aedes fixes a subscription's granted QoS (the SUBACK, and what a persistent
 * session stores) from the request before authorizeSubscribe runs, so a QoS
 * the hook lowers is still echoed back and stored. Lowering the request as it
 * is parsed makes SUBACK, session and delivery agree. This uses the client's
 * parser (`client._parser`, which Aedes 1.2 gives a back-reference
 * `parser.client`) and the packets it queued while CONNECT was being
 * authenticated (`parser._queue`): a SUBSCRIBE sent right behind the CONNECT
 * is parsed before the client is known. One listener function is shared by
 * every client, so a connection costs no closure.
 */
export function lowerRequestedQos(client: Client, lower: LowerQos): void {
  const parser = (client as unknown as { _parser?: ClientParser })._parser;
  if (!parser) return;
  let listener = qosListeners.get(lower);
  if (!listener) {
    listener = function lowerSubscribeQos(this: ClientParser, packet: Packet) {
      if (packet.cmd !== 'subscribe' || !this.client) return;
      for (const subscription of packet.subscriptions) subscription.qos = lower(this.client, subscription.qos);
    };
    qosListeners.set(lower, listener);
  }
  for (const queued of parser._queue ?? []) listener.call(parser, queued);
  parser.prependListener('packet', listener);
}

interface QueueingEmitter {
  current: number;
  _doing: boolean;
  _do(this: QueueingEmitter, message: unknown, callback: unknown): unknown;
}

/** Deliveries one queue drain may nest before the rest continue on the next tick. */
const NESTED_DELIVERIES = 64;

/**
 * mqemitter 7 queues messages beyond Aedes' `concurrency` (100 in flight) and,
 * when a delivery finishes, starts the next queued one from inside that
 * delivery's callback. Deliveries that finish at once (a topic nobody
 * subscribes to: `$SYS` disconnect notices, wills) then nest one stack frame
 * set per queued message, so a few thousand devices dropping together while a
 * slow subscriber holds the in-flight slots overflowed the stack and the
 * broker process died (mcollina/mqemitter#204). This bounds the nesting: past
 * NESTED_DELIVERIES a delivery waits in a list drained in a loop on the next
 * tick, holding its in-flight slot meanwhile; while the list is not empty,
 * every new delivery joins its end, so deliveries start in mqemitter's order.
 * Applied to the in-memory emitter and mqemitter-redis alike (it extends
 * mqemitter).
 */
export function boundEmitterDrain(broker: Aedes): void {
  const mq = (broker as unknown as { mq?: Partial<QueueingEmitter> }).mq as QueueingEmitter | undefined;
  if (!mq || typeof mq._do !== 'function' || typeof mq.current !== 'number') return;
  const deliver = mq._do;
  const waiting: Array<[message: unknown, callback: unknown]> = [];
  let depth = 0;
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    for (let next = waiting.shift(); next; next = waiting.shift()) {
      mq.current -= 1;
      depth = 1;
      try {
        deliver.call(mq, next[0], next[1]);
      } finally {
        depth = 0;
      }
    }
  };
  mq._do = function boundedDo(this: QueueingEmitter, message: unknown, callback: unknown) {
    if (depth >= NESTED_DELIVERIES || waiting.length > 0) {
      this.current += 1;
      this._doing = true;
      waiting.push([message, callback]);
      if (!scheduled) {
        scheduled = true;
        process.nextTick(drain);
      }
      return this;
    }
    depth += 1;
    try {
      return deliver.call(this, message, callback);
    } finally {
      depth -= 1;
    }
  };
}
