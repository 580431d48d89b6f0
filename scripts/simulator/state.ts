import type { MqttClient } from 'mqtt';
import { decodePayload, StateDesiredPayload, topics, type StateReportedPayload } from '#libs/mqtt-contract';

/** What the simulated appliance does with a desired state: apply it, or refuse it. */
export const STATE_BEHAVIOURS = ['apply', 'reject'] as const;
export type StateBehaviour = (typeof STATE_BEHAVIOURS)[number];

export type StateEvent =
  | { sn: string; event: 'desired'; version: number; values: Record<string, unknown> }
  | { sn: string; event: 'applied'; version: number; values: Record<string, unknown> }
  | { sn: string; event: 'rejected'; version: number; points: string[] };

export interface StateOptions {
  behaviour: StateBehaviour;
  /** The appliance's settings before any request (reported once on connecting). */
  initial?: Record<string, boolean | number | string>;
}

/**
 * An appliance's settings as the contract says a device keeps them: on each
 * retained or live `devices/<sn>/state/desired` it applies the values (the
 * backend only sends writable points, judged against the model) and reports
 * all its settings with the version on `state/reported`; with `reject` it
 * reports `rejected` for every point instead. An empty message (the request
 * was cleared) changes nothing. Listen before subscribing, so a retained
 * request is not missed.
 */
export class StateDevice {
  private readonly settings: Record<string, boolean | number | string>;

  private constructor(
    private readonly client: MqttClient,
    private readonly sn: string,
    private readonly options: StateOptions,
    private readonly onEvent: (event: StateEvent) => void,
  ) {
    this.settings = { ...(options.initial ?? {}) };
  }

  static listen(client: MqttClient, sn: string, options: StateOptions, onEvent: (event: StateEvent) => void): StateDevice {
    const device = new StateDevice(client, sn, options, onEvent);
    client.on('message', (topic, payload) => {
      if (topic === topics.stateDesired(sn) && payload.length > 0) void device.receive(payload);
    });
    return device;
  }

  /** Reports the initial settings (nothing when there are none). */
  async reportInitial(): Promise<void> {
    if (Object.keys(this.settings).length > 0) await this.report({ values: { ...this.settings } });
  }

  private async receive(payload: Buffer): Promise<void> {
    const decoded = decodePayload(StateDesiredPayload, payload);
    if (!decoded.ok) return;
    const { version, values } = decoded.value;
    this.onEvent({ sn: this.sn, event: 'desired', version, values });
    if (this.options.behaviour === 'reject') {
      const points = Object.keys(values);
      await this.report({ version, rejected: Object.fromEntries(points.map((point) => [point, 'refused by the simulated appliance'])) });
      this.onEvent({ sn: this.sn, event: 'rejected', version, points });
      return;
    }
    Object.assign(this.settings, values);
    await this.report({ values: { ...this.settings }, version });
    this.onEvent({ sn: this.sn, event: 'applied', version, values: { ...this.settings } });
  }

  private async report(body: StateReportedPayload): Promise<void> {
    await this.client.publishAsync(topics.stateReported(this.sn), JSON.stringify(body), { qos: 1 }).catch(() => undefined);
  }
}
