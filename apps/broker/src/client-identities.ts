import type { Client } from 'aedes';
import type { MqttIdentity } from '#libs/mqtt-contract';

/**
 * Who each connection authenticated as. Held beside the Aedes client, not on
 * it, and weakly, so a closed connection leaves nothing behind.
 */
export class ClientIdentities {
  private readonly identities = new WeakMap<Client, MqttIdentity>();

  set(client: Client, identity: MqttIdentity): void {
    this.identities.set(client, identity);
  }

  get(client: Client | null | undefined): MqttIdentity | undefined {
    return client ? this.identities.get(client) : undefined;
  }
}
