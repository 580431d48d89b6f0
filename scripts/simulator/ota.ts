import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { decodePayload, OtaJobPayload, topics, type OtaProgressPayload, type StatusPayload } from '#libs/mqtt-contract';
import { connectAppliance } from './connect.js';

/**
 * How a simulated appliance handles a firmware job:
 * - `update`: download, check size, SHA-256 and signature, install, restart, report the new version;
 * - `fail-install`: as update, but the install fails (reported `failed`);
 * - `corrupt`: the image arrives damaged, so its SHA-256 does not match (reported `failed`);
 * - `silent`: receives the job and never answers (the job times out);
 * - `old-version`: installs and restarts, but comes back on its old version (as after a power cut mid-flash).
 */
export const OTA_BEHAVIOURS = ['update', 'fail-install', 'corrupt', 'silent', 'old-version'] as const;
export type OtaBehaviour = (typeof OTA_BEHAVIOURS)[number];

export interface TrustedKey {
  id: string;
  publicKey: string;
}

export interface OtaDeviceOptions {
  /** The broker. */
  url: string;
  sn: string;
  secret: string;
  /** The version the device runs (and reports in its status). */
  firmware: string;
  behaviour: OtaBehaviour;
  /** The maker's public keys the device trusts (as burnt into real firmware). */
  trustedKeys: readonly TrustedKey[];
  /** Download in ranged requests of this many bytes (resuming after each), instead of one GET. */
  chunkBytes?: number;
  /** How long the "restart" keeps the device away. */
  restartMs?: number;
  onEvent?(event: OtaEvent): void;
}

export type OtaEvent =
  | { sn: string; event: 'ota'; state: 'received' | 'downloading' | 'installing' | 'ignored'; jobId: string; version: string }
  | { sn: string; event: 'ota'; state: 'failed'; jobId: string; version: string; reason: string }
  | { sn: string; event: 'ota'; state: 'restarted'; jobId: string; version: string; firmware: string }
  | { sn: string; event: 'ota'; state: 'withdrawn' }
  | { sn: string; event: 'ota'; state: 'ready'; firmware: string };

/**
 * One appliance that takes firmware jobs: it connects with its own
 * credentials, reports its firmware in a retained status, and follows its
 * retained `ota/job` as the contract says. A job it has handled once is not
 * handled again when the same retained job comes back after its restart.
 */
export class OtaDevice {
  readonly events: OtaEvent[] = [];
  /** Every job the device took, in order. */
  readonly received: OtaJobPayload[] = [];
  private client: MqttClient | undefined;
  private readonly handled = new Set<string>();
  private download: AbortController | undefined;
  private stopped = false;
  /** A job is in hand and not finished (silent devices keep it so for ever). */
  private active = false;
  private readonly keys: Map<string, KeyObject>;
  private work: Promise<void> = Promise.resolve();

  private constructor(private readonly options: OtaDeviceOptions) {
    this.keys = new Map(options.trustedKeys.map((key) => [key.id, createPublicKey(key.publicKey)]));
    this.firmware = options.firmware;
  }

  /** The version the device runs now. */
  firmware: string;

  get sn(): string {
    return this.options.sn;
  }

  /** Connects (or takes over a connection already open for this device) and starts listening for jobs. */
  static async start(options: OtaDeviceOptions, client?: MqttClient): Promise<OtaDevice> {
    const device = new OtaDevice(options);
    await device.online(client);
    return device;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.download?.abort();
    await this.client?.endAsync().catch(() => undefined);
    await this.work.catch(() => undefined);
  }

  private emit(event: OtaEvent): void {
    this.events.push(event);
    this.options.onEvent?.(event);
  }

  private async online(existing?: MqttClient): Promise<void> {
    const client = existing ?? (await connectAppliance(this.options.url, this.options));
    this.client = client;
    client.on('message', (topic, payload) => {
      if (topic !== topics.otaJob(this.options.sn)) return;
      // One job at a time, in the order they came.
      this.work = this.work.then(() => this.onJob(payload)).catch(() => undefined);
    });
    const status: StatusPayload = { online: true, firmware: this.firmware };
    await client.publishAsync(topics.status(this.options.sn), JSON.stringify(status), { qos: 1, retain: true });
    await client.subscribeAsync(topics.otaJob(this.options.sn), { qos: 1 });
    this.emit({ sn: this.sn, event: 'ota', state: 'ready', firmware: this.firmware });
  }

  private async onJob(payload: Buffer): Promise<void> {
    if (this.stopped) return;
    if (payload.length === 0) {
      // The job was cleared: news only while the device was still working on it (withdrawn, or timed out).
      if (this.active) {
        this.active = false;
        this.download?.abort();
        this.emit({ sn: this.sn, event: 'ota', state: 'withdrawn' });
      }
      return;
    }
    const decoded = decodePayload(OtaJobPayload, payload);
    if (!decoded.ok) return;
    const job = decoded.value;
    const base = { sn: this.sn, event: 'ota' as const, jobId: job.jobId, version: job.version };
    // The same retained job comes back after the restart: it was handled already.
    if (this.handled.has(job.jobId)) return;
    this.handled.add(job.jobId);
    if (job.version === this.firmware) {
      this.emit({ ...base, state: 'ignored' });
      return;
    }
    this.active = true;
    this.received.push(job);
    this.emit({ ...base, state: 'received' });
    if (this.options.behaviour === 'silent') return;

    const fail = async (reason: string) => {
      this.active = false;
      await this.progress({ jobId: job.jobId, state: 'failed', reason });
      this.emit({ ...base, state: 'failed', reason });
    };
    await this.progress({ jobId: job.jobId, state: 'downloading', progress: 0 });
    this.emit({ ...base, state: 'downloading' });
    let image: Buffer;
    try {
      image = await this.fetchImage(job);
    } catch (error) {
      if (this.stopped || this.download?.signal.aborted) return;
      return fail(`download failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (this.options.behaviour === 'corrupt') image[Math.floor(image.length / 2)] ^= 0xff;
    if (image.length !== job.size) return fail(`size mismatch: got ${image.length} bytes, the job says ${job.size}`);
    if (createHash('sha256').update(image).digest('hex') !== job.sha256) return fail('sha256 mismatch');
    const key = this.keys.get(job.keyId);
    if (!key || !verify(null, image, key, Buffer.from(job.signature, 'base64')))
      return fail(`signature not verified by trusted key ${job.keyId}`);

    await this.progress({ jobId: job.jobId, state: 'installing', progress: 0 });
    this.emit({ ...base, state: 'installing' });
    if (this.options.behaviour === 'fail-install') return fail('install failed: flash write error');
    await this.progress({ jobId: job.jobId, state: 'installing', progress: 100 });
    this.active = false;
    await this.restart(this.options.behaviour === 'old-version' ? this.firmware : job.version);
    this.emit({ ...base, state: 'restarted', firmware: this.firmware });
  }

  /** GET with the device's credentials; in ranged requests when chunkBytes is set, each resuming where the last ended. */
  private async fetchImage(job: OtaJobPayload): Promise<Buffer> {
    this.download = new AbortController();
    const authorization = `Basic ${Buffer.from(`${this.options.sn}:${this.options.secret}`).toString('base64')}`;
    const chunk = this.options.chunkBytes;
    const parts: Buffer[] = [];
    let received = 0;
    for (;;) {
      const headers: Record<string, string> = { authorization };
      if (chunk) headers.range = `bytes=${received}-${received + chunk - 1}`;
      const response = await fetch(job.url, { headers, signal: this.download.signal });
      if (response.status !== 200 && response.status !== 206) throw new Error(`HTTP ${response.status}`);
      const body = Buffer.from(await response.arrayBuffer());
      parts.push(body);
      received += body.length;
      if (!chunk || response.status === 200 || received >= job.size || body.length === 0) break;
      await this.progress({ jobId: job.jobId, state: 'downloading', progress: Math.min(99, Math.floor((received / job.size) * 100)) });
    }
    return Buffer.concat(parts);
  }

  private async progress(report: OtaProgressPayload): Promise<void> {
    if (!this.stopped) await this.client?.publishAsync(topics.otaProgress(this.options.sn), JSON.stringify(report), { qos: 1 });
  }

  /** Drops the connection as a reboot would, and comes back reporting `firmware`. */
  private async restart(firmware: string): Promise<void> {
    await this.client?.endAsync();
    await new Promise((resolve) => setTimeout(resolve, this.options.restartMs ?? 200));
    if (this.stopped) return;
    this.firmware = firmware;
    await this.online();
  }
}
