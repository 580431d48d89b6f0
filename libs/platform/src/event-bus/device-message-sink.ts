import type { DeviceTopicKind } from '#libs/mqtt-contract';

/** One upstream device message as the broker hands it on: who sent it, what kind, the raw bytes. */
export interface OutgoingDeviceMessage {
  sn: string;
  kind: DeviceTopicKind;
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
}

/**
 * Where a broker node puts the device messages that services consume, when
 * something other than an MQTT subscription carries them: RabbitMQ
 * (EVENT_BUS_URL) or, under `npm start`, the services in the same process.
 * The broker awaits `put` in authorizePublish, before Aedes writes the PUBACK,
 * so a device's PUBACK means the message is safe; a rejected `put` refuses the
 * publish and the device sends it again.
 */
export interface DeviceMessageSink {
  /** Whether messages of this kind go through the sink (the kinds services consume). */
  carries(kind: DeviceTopicKind): boolean;
  put(message: OutgoingDeviceMessage): Promise<void>;
  /** Up and able to take messages (for /health). */
  readonly ready: boolean;
  close(): Promise<void>;
}

/** One message a service of this process publishes through its broker (`npm start`). */
export interface ServicePublish {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  retain: boolean;
}

/**
 * The broker of this process as the services' way to devices (`npm start`):
 * a service account is checked once, as at CONNECT, and each publish by the
 * same rules as one over MQTT, then routed as the broker routes any message.
 */
export interface InProcessBroker {
  /** Rejects when the account's credentials are refused. */
  openLink(account: { username: string; password: string }, clientId: string): Promise<(message: ServicePublish) => Promise<void>>;
}
