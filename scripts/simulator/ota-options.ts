import { readFile } from 'node:fs/promises';
import { FIRMWARE_VERSION_PATTERN } from '#libs/mqtt-contract';
import { OTA_BEHAVIOURS, type OtaBehaviour, type TrustedKey } from './ota.js';

export interface OtaFlags {
  ota?: string;
  'trust-keys'?: string;
  'ota-chunk'?: string;
  firmware?: string;
}

/** The simulator's firmware flags, checked: a behaviour, the version the device runs, the keys it trusts. */
export async function otaOptions(
  flags: OtaFlags,
  fail: (message: string) => never,
): Promise<{ behaviour: OtaBehaviour; trustedKeys: TrustedKey[]; chunkBytes?: number }> {
  const behaviour = flags.ota as OtaBehaviour;
  if (!OTA_BEHAVIOURS.includes(behaviour)) fail(`--ota must be one of ${OTA_BEHAVIOURS.join(', ')}`);
  if (!flags.firmware || !FIRMWARE_VERSION_PATTERN.test(flags.firmware))
    fail('--ota needs --firmware <x.y.z>: the version the device runs');
  let text = process.env.FIRMWARE_SIGNING_KEYS;
  if (flags['trust-keys']) text = await readFile(flags['trust-keys'], 'utf8').catch(() => fail(`cannot read ${flags['trust-keys']}`));
  if (!text) fail('--ota needs the public keys the device trusts: --trust-keys <keys.json> or FIRMWARE_SIGNING_KEYS');
  let trustedKeys: TrustedKey[];
  try {
    trustedKeys = JSON.parse(text) as TrustedKey[];
    if (!Array.isArray(trustedKeys) || !trustedKeys.every((key) => typeof key?.id === 'string' && typeof key?.publicKey === 'string')) {
      throw new Error('not a list');
    }
  } catch {
    fail('the trusted keys must be JSON [{"id": "...", "publicKey": "-----BEGIN PUBLIC KEY-----..."}]');
  }
  const chunk = flags['ota-chunk'] === undefined ? undefined : Number(flags['ota-chunk']);
  if (chunk !== undefined && (!Number.isInteger(chunk) || chunk < 1)) fail('--ota-chunk must be a whole number of bytes, at least 1');
  return { behaviour, trustedKeys, ...(chunk ? { chunkBytes: chunk } : {}) };
}
