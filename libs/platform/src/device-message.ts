import { MqttContext } from '@nestjs/microservices';
import { parseDeviceTopic, type DeviceTopicKind } from '#libs/mqtt-contract';

/** One message from an appliance, as every consumer handler sees it, whatever carried it. */
export interface DeviceMessage {
  sn: string;
  kind: DeviceTopicKind;
  /** The raw bytes: handlers decode them with mqtt-contract's decodePayload. */
  payload: Buffer;
}

/**
 * Reads the device message out of the context Nest hands an @EventPattern
 * handler (`@Ctx() context`): the SN and kind from the topic, the payload
 * from the packet. The one place that knows the transport: handlers depend on
 * this, not on MqttContext, so another carrier (a message bus between broker
 * and services) changes this function only. Undefined for anything that is
 * not a device topic (of `kind`, when given).
 */
export function readDeviceMessage(context: unknown, kind?: DeviceTopicKind): DeviceMessage | undefined {
  if (!(context instanceof MqttContext)) return undefined;
  const parsed = parseDeviceTopic(context.getTopic());
  if (!parsed || (kind !== undefined && parsed.kind !== kind)) return undefined;
  const payload = (context.getPacket() as { payload?: Buffer | string } | undefined)?.payload;
  return { sn: parsed.sn, kind: parsed.kind, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '') };
}
