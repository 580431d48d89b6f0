/**
 * QoS 1/2 deliveries this node sent and clients have not acknowledged yet:
 * counted up as Aedes forwards a message, down on each acknowledgement.
 */
export class InflightDeliveries {
  private pending = 0;

  sent(qos: number): void {
    if (qos > 0) this.pending += 1;
  }

  acknowledged(): void {
    if (this.pending > 0) this.pending -= 1;
  }

  get count(): number {
    return this.pending;
  }
}

/**
 * The drain before a node closes: with the listeners already closed, wait
 * until in-flight QoS 1 deliveries are acknowledged and the emitter has
 * handed on what is still travelling through it, or `graceMs` passes.
 */
export async function drain(inflight: InflightDeliveries, emitterBacklog: () => number, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (inflight.count > 0 || emitterBacklog() > 0)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
