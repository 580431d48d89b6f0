import type { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { CredentialCache } from '#libs/devices';
import { decodePayload, DeviceCredentialsChangedPayload, internalTopics } from '#libs/mqtt-contract';
import { localClient } from './aedes-workarounds.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { ClientIdentities } from './client-identities.js';

/**
 * Credential changes arrive on the broker-internal topic from provisioning, on
 * whichever node it is connected to; the shared emitter brings them to every
 * node, and each drops its cache entry and closes the device's connection if
 * it holds it. Resolves once the subscription is in place.
 */
export function listenForCredentialChanges(
  broker: Aedes,
  deps: { cache: CredentialCache; identities: ClientIdentities; metrics: BrokerMetrics; log: Logger },
): Promise<void> {
  const { cache, identities, metrics, log } = deps;
  return new Promise<void>((resolve) =>
    broker.subscribe(
      internalTopics.deviceCredentials,
      (packet, done) => {
        try {
          const decoded = decodePayload(DeviceCredentialsChangedPayload, packet.payload as Buffer);
          if (!decoded.ok) {
            log.warn({ reason: decoded.reason }, 'ignored malformed credentials notice');
            return done();
          }
          const { sn } = decoded.value;
          cache.invalidate(sn);
          const client = localClient(broker, sn);
          if (client && identities.get(client)?.kind === 'device') {
            metrics.credentialDrops.inc();
            log.info({ change: decoded.value.change }, 'closing a device connection after a credentials change');
            client.close();
          }
        } catch (error) {
          log.error({ err: error }, 'credentials notice failed');
        }
        done();
      },
      resolve,
    ),
  );
}
