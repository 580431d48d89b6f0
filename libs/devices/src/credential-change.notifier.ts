import { internalTopics, type DeviceCredentialsChangedPayload } from '#libs/mqtt-contract';

/** Tells every broker node that a device's credentials changed, so caches drop it and open connections close. */
export abstract class CredentialChangeNotifier {
  abstract notify(change: DeviceCredentialsChangedPayload): Promise<void>;
}

/** What the notifier needs from an MQTT link (the services' MqttLink fits). */
export interface MqttPublisher {
  publish(topic: string, payload: unknown, qos?: 0 | 1, retain?: boolean): Promise<void>;
}

/**
 * Publishes on the broker-internal topic over the service's own MQTT link:
 * the broker nodes share one message bus (Redis when scaled out), so one
 * publish reaches the node that holds the device's connection.
 */
export class MqttCredentialChangeNotifier extends CredentialChangeNotifier {
  constructor(
    private readonly mqtt: MqttPublisher,
    private readonly timeoutMs = 5000,
  ) {
    super();
  }

  async notify(change: DeviceCredentialsChangedPayload): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the broker did not acknowledge in time')), this.timeoutMs);
    });
    try {
      await Promise.race([this.mqtt.publish(internalTopics.deviceCredentials, { sn: change.sn, change: change.change }, 1), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
