import type { Aedes, PublishPacket } from 'aedes';
import type { InProcessBroker } from '#libs/platform';
import { publishCheck, type HookDependencies } from './aedes-hooks.js';
import type { ServiceAccountDirectory } from './service-accounts.js';

/**
 * `npm start`: the services of this process publish to devices through this
 * node directly. The account is verified as at CONNECT, each publish passes
 * the same payload limit and ACL as one over MQTT (publishCheck), and the node
 * routes it as any message (subscribers, retained store, offline sessions,
 * the other nodes); the promise settles once it has.
 */
export function inProcessPublisher(
  node: Aedes,
  deps: Pick<HookDependencies, 'maxPayloadBytes' | 'metrics' | 'log'> & { accounts: ServiceAccountDirectory },
): InProcessBroker {
  const check = publishCheck(deps);
  return {
    async openLink(account, clientId) {
      const identity = await deps.accounts.verify(account.username, Buffer.from(account.password), clientId);
      if (!identity) throw new Error(`the broker refused the service account ${account.username}`);
      return ({ topic, payload, qos, retain }) =>
        new Promise<void>((resolve, reject) => {
          if (node.closed) return reject(new Error('broker closed'));
          const allowed = check(identity, topic, payload);
          if (allowed instanceof Error) return reject(allowed);
          const packet = { cmd: 'publish', topic, payload, qos, retain, dup: false } as PublishPacket;
          node.publish(packet, (error?: Error | null) => (error ? reject(error) : resolve()));
        });
    },
  };
}
