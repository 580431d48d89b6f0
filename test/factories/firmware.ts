import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { TestBackend } from '../support/backend.js';
import { call, type HttpResult } from '../support/http.js';
import { newDeviceRow } from './devices.js';

export interface SigningKey {
  id: string;
  /** PEM, as in firmware.signingKeys. */
  publicKey: string;
  privateKey: KeyObject;
}

let counter = 0;

/** A fresh Ed25519 key pair, as the maker would hold one. */
export function newSigningKey(id = `maker-${++counter}`): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { id, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

export function signImage(image: Buffer, key: SigningKey): string {
  return sign(null, image, key.privateKey).toString('base64');
}

/** A fresh model name per call, so suites and tests never share devices. */
export function newModel(prefix = 'OTA'): string {
  counter += 1;
  return `${prefix}-${randomBytes(3).toString('hex').toUpperCase()}-${counter}`;
}

export function newImage(bytes = 64 * 1024): Buffer {
  return randomBytes(bytes);
}

export interface UploadOptions {
  model: string;
  version: string;
  image: Buffer;
  key?: SigningKey;
  /** Overrides the signature computed with `key` (or leaves it out when null). */
  signature?: string | null;
  keyId?: string | null;
  headers?: Record<string, string>;
}

/** POST /v1/admin/firmware as an admin's tool would: the image as the body, the rest in the query. */
export async function uploadImage(backend: TestBackend, adminToken: string, options: UploadOptions): Promise<HttpResult> {
  const query = new URLSearchParams({ model: options.model, version: options.version });
  const keyId = options.keyId === undefined ? options.key?.id : options.keyId;
  if (keyId) query.set('keyId', keyId);
  const signature = options.signature === undefined ? (options.key ? signImage(options.image, options.key) : null) : options.signature;
  if (signature) query.set('signature', signature);
  const response = await fetch(`${backend.provisioningUrl}/v1/admin/firmware?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/octet-stream', ...options.headers },
    body: new Uint8Array(options.image),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls a campaign until `done` holds for it. */
export async function campaignWhen(
  backend: TestBackend,
  adminToken: string,
  id: string,
  done: (campaign: any) => boolean,
  timeoutMs = 20_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  for (;;) {
    last = (await call('GET', `${backend.provisioningUrl}/v1/admin/campaigns/${id}`, { token: adminToken })).body;
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`campaign did not get there in time; last seen ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function jobsOf(backend: TestBackend, adminToken: string, campaignId: string, query = ''): Promise<any[]> {
  const answer = await call('GET', `${backend.provisioningUrl}/v1/admin/campaigns/${campaignId}/jobs?limit=1000${query}`, {
    token: adminToken,
  });
  if (answer.status !== 200) throw new Error(`jobs listing failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Registers `count` devices of one model on one firmware, through the admin API. */
export async function registerFleet(
  backend: TestBackend,
  adminToken: string,
  count: number,
  fleet: { model: string; firmware?: string },
): Promise<Array<{ sn: string; deviceSecret: string }>> {
  const rows = Array.from({ length: count }, () => newDeviceRow({ model: fleet.model, firmware: fleet.firmware }));
  if (fleet.firmware === undefined) for (const row of rows) delete row.firmware;
  const response = await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, { token: adminToken, body: rows });
  if (response.status !== 201) throw new Error(`device registration failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as Array<{ sn: string; deviceSecret: string }>;
}
