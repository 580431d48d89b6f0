import { DomainError } from '#libs/platform';
import { topics, type StateDesiredPayload } from '#libs/mqtt-contract';

/** Puts a device's pending values in front of it and takes them back; the app says how (MQTT), unit specs swap it. */
export abstract class DesiredStateNotifier {
  /** Sends the pending values as the device's retained desired state; resolves once the broker has it. */
  abstract publish(sn: string, payload: StateDesiredPayload): Promise<void>;
  /** Clears the device's retained desired state (applied, rejected, expired, or the device left its owner). */
  abstract clear(sn: string): Promise<void>;
}

/** What the notifier needs of an MQTT client: mqtt.js's publishAsync. */
export interface RetainedStatePublisher {
  publishAsync(topic: string, message: string, options: { qos: 1; retain: true }): Promise<unknown>;
}

/** A publish waits at most this long for the broker's PUBACK; then the request fails (503) and nothing is kept. */
export const DESIRED_PUBLISH_TIMEOUT_MS = 5_000;

/**
 * Retained QoS 1 on `devices/<sn>/state/desired`: a device connected now
 * gets it at once, one that is offline when it subscribes again. An empty
 * retained message clears it (MQTT 3.1.1 §3.3.1.3).
 */
export class MqttDesiredStateNotifier extends DesiredStateNotifier {
  constructor(private readonly mqtt: RetainedStatePublisher) {
    super();
  }

  publish(sn: string, payload: StateDesiredPayload): Promise<void> {
    return this.send(topics.stateDesired(sn), JSON.stringify(payload));
  }

  clear(sn: string): Promise<void> {
    return this.send(topics.stateDesired(sn), '');
  }

  private async send(topic: string, message: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DomainError('UNAVAILABLE', 'The broker did not take the desired state in time')),
        DESIRED_PUBLISH_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.mqtt.publishAsync(topic, message, { qos: 1, retain: true }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
