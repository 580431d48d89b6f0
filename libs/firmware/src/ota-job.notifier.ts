import { topics, type OtaJobPayload } from '#libs/mqtt-contract';

export interface OtaJobMessage {
  sn: string;
  payload: OtaJobPayload;
}

/** Puts jobs in front of devices and takes them back; the app says how (MQTT), unit specs swap it. */
export abstract class OtaJobNotifier {
  /** Sends each job as the device's retained job; resolves with the ids handed to the broker. */
  abstract publish(messages: readonly OtaJobMessage[]): Promise<string[]>;
  /** Clears the devices' retained job (it ended, or was withdrawn). */
  abstract clear(sns: readonly string[]): Promise<void>;
}

/** What the notifier needs of an MQTT client: mqtt.js's publishAsync. */
export interface RetainedPublisher {
  publishAsync(topic: string, message: string, options: { qos: 1; retain: true }): Promise<unknown>;
}

const IN_FLIGHT = 500;

/**
 * Retained QoS 1 on `devices/<sn>/ota/job`: a device connected now gets it at
 * once, one that is offline when it subscribes again. An empty retained
 * message clears it (MQTT 3.1.1 §3.3.1.3).
 */
export class MqttOtaJobNotifier extends OtaJobNotifier {
  constructor(private readonly mqtt: RetainedPublisher) {
    super();
  }

  async publish(messages: readonly OtaJobMessage[]): Promise<string[]> {
    const published: string[] = [];
    await inBatches(messages, async (message) => {
      await this.mqtt.publishAsync(topics.otaJob(message.sn), JSON.stringify(message.payload), { qos: 1, retain: true });
      published.push(message.payload.jobId);
    });
    return published;
  }

  async clear(sns: readonly string[]): Promise<void> {
    await inBatches(sns, (sn) => this.mqtt.publishAsync(topics.otaJob(sn), '', { qos: 1, retain: true }));
  }
}

/** At most IN_FLIGHT publishes waiting for their PUBACK at once; a failed one does not stop the others. */
async function inBatches<T>(items: readonly T[], send: (item: T) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += IN_FLIGHT) {
    await Promise.allSettled(items.slice(start, start + IN_FLIGHT).map(send));
  }
}

/** Where a device downloads a job's image; the app knows its own public address. */
export abstract class DownloadUrls {
  abstract forJob(jobId: string, token: string): string;
}
