import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { topics } from '#libs/mqtt-contract';
import { sql, type TestBackend } from '../support/backend.js';
import { connectDevice, type RegisteredDevice } from './devices.js';

export interface FaultReportInput {
  reportId: string;
  code: string;
  severity: string;
  occurredAt: string;
  firmware?: string;
  diagnostics?: Record<string, unknown>;
}

/** A valid fault report as an appliance sends it; override any field (or break it on purpose). */
export function newFaultReport(overrides: Partial<FaultReportInput> & Record<string, unknown> = {}): FaultReportInput {
  return {
    reportId: randomUUID(),
    code: 'E42',
    severity: 'warning',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    firmware: '1.2.3',
    diagnostics: { mac: 'AA:BB:CC:DD:EE:01', routerMac: 'AA:BB:CC:DD:EE:02', wifiName: 'home-5G', rssi: -61, ip: '192.168.1.20' },
    ...overrides,
  };
}

export interface FaultAck {
  reportId: string;
  stored: 'full' | 'deidentified' | 'duplicate' | 'rejected';
  reason?: string;
}

/** An appliance online, subscribed to its fault acks; `acks` fills as they arrive. */
export interface ReportingDevice {
  sn: string;
  client: MqttClient;
  acks: FaultAck[];
  /** Publishes a report (object, or raw string/Buffer for bad input) at QoS 1; resolves on the broker's PUBACK. */
  send(report: FaultReportInput | Record<string, unknown> | string | Buffer): Promise<void>;
  /** Resolves with the ack of this reportId (the first one, or the nth when a report was sent twice). */
  ackFor(reportId: string, nth?: number, timeoutMs?: number): Promise<FaultAck>;
}

export async function reportingDevice(
  backend: TestBackend,
  device: RegisteredDevice,
  options: { clean?: boolean } = {},
): Promise<ReportingDevice> {
  const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret, {
    clean: options.clean ?? true,
    reconnectPeriod: 500,
  });
  const acks: FaultAck[] = [];
  client.on('message', (topic, payload) => {
    if (topic === topics.faultsAck(device.sn)) acks.push(JSON.parse(payload.toString('utf8')) as FaultAck);
  });
  await client.subscribeAsync(topics.faultsAck(device.sn), { qos: 1 });
  return {
    sn: device.sn,
    client,
    acks,
    async send(report) {
      const body = typeof report === 'string' || Buffer.isBuffer(report) ? report : JSON.stringify(report);
      await client.publishAsync(topics.faults(device.sn), body, { qos: 1 });
    },
    async ackFor(reportId, nth = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = acks.filter((ack) => ack.reportId === reportId);
        if (matching.length >= nth) return matching[nth - 1];
        if (Date.now() > deadline) throw new Error(`no ack #${nth} for report ${reportId}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** Rows of fault_reports as stored, for assertions on what the database holds. */
export function storedReports(backend: TestBackend, where = 'TRUE', values: unknown[] = []): Promise<Array<Record<string, any>>> {
  return sql(backend, `SELECT * FROM fault_reports WHERE ${where} ORDER BY received_at, report_id`, values);
}
