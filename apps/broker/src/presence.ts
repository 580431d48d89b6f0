import type { Aedes, Client } from 'aedes';
import type { Logger } from 'pino';
import type { PresenceRecorder } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import { localClient } from './aedes-workarounds.js';
import type { ClientIdentities } from './client-identities.js';

const OFFLINE = Buffer.from(JSON.stringify({ online: false }));

/**
 * The takeover rule: a device whose connection ends has gone offline, unless
 * this node already holds a newer connection of the same SN (the device
 * reconnected and took its own session over): then it is still online.
 */
export function wentOffline(ended: Client, holding: Client | undefined): boolean {
  return holding === undefined || holding === ended;
}

/**
 * Devices' presence: CONNECT and PINGREQ mark a device seen and online, the
 * end of its connection offline, with a retained `{"online":false}` on its
 * status topic. The registry's `online` / `last_seen_at` are written in
 * batches by the recorder, never per ping.
 */
export function trackPresence(broker: Aedes, identities: ClientIdentities, recorder: PresenceRecorder, log: Logger): void {
  const seenOnline = (client: Client) => {
    const identity = identities.get(client);
    if (identity?.kind === 'device') recorder.seen(identity.sn, true);
  };
  broker.on('clientReady', seenOnline);
  broker.on('ping', (_packet, client) => seenOnline(client));
  broker.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== 'device' || !wentOffline(client, localClient(broker, identity.sn))) return;
    recorder.seen(identity.sn, false);
    if (broker.closed) return;
    broker.publish(
      { cmd: 'publish', topic: topics.status(identity.sn), payload: OFFLINE, qos: 1, retain: true, dup: false },
      (error) => error && log.warn({ err: error }, 'offline status not published'),
    );
  });
}
