/** Bytes of a PUBLISH payload as Aedes hands it over (a Buffer from the wire, a string when the broker publishes itself). */
export function payloadBytes(payload: Buffer | string | undefined): number {
  if (payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

/**
 * The size rule: a payload over `mqtt.maxPayloadBytes` is refused like any
 * other illegal publish (the connection closes: MQTT 3.1.1 has no negative
 * PUBACK). Checked before the ACL, so nothing reads an oversized payload.
 */
export function exceedsPayloadLimit(payload: Buffer | string | undefined, maxBytes: number): boolean {
  return payloadBytes(payload) > maxBytes;
}
