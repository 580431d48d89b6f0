import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import type { FirmwareImageEntity } from './firmware-image.entity.js';
import type { FirmwareImageRepository } from './firmware-image.repository.js';
import { FirmwareStorage } from './firmware-storage.js';
import { FirmwareSignatureVerifier } from './signature-verifier.js';
import { UploadFirmware } from './upload-firmware.use-case.js';

const pair = generateKeyPairSync('ed25519');
const publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const image = Buffer.from('firmware image bytes');
const signature = sign(null, image, pair.privateKey).toString('base64');

/** An in-memory image table with the unique (model, version) of the real one. */
class MemoryImages {
  rows: FirmwareImageEntity[] = [];
  /** Set to make the next insert lose a race for the same version. */
  loseNextRace = false;
  async exists(model: string, version: string) {
    return this.rows.some((row) => row.model === model && row.version === version);
  }
  async insert(row: Omit<FirmwareImageEntity, 'createdAt'>) {
    if (this.loseNextRace || (await this.exists(row.model, row.version))) return false;
    this.rows.push({ ...row, createdAt: new Date() });
    return true;
  }
  async findById(id: string) {
    return this.rows.find((row) => row.id === id) ?? null;
  }
}

describe('UploadFirmware', () => {
  let dir: string;
  let images: MemoryImages;
  let upload: UploadFirmware;
  let reads: number;
  const readImage = (bytes: Buffer) => async () => {
    reads += 1;
    return bytes;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'firmware-upload-'));
    const config = {
      dataDir: dir,
      firmware: { storageDir: '', maxImageBytes: 1024, signingKeys: [{ id: 'k1', publicKey }] },
    } as unknown as AppConfig;
    images = new MemoryImages();
    reads = 0;
    upload = new UploadFirmware(
      images as unknown as FirmwareImageRepository,
      new FirmwareStorage(config),
      new FirmwareSignatureVerifier(config),
      config,
    );
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const files = async () => readdir(join(dir, 'firmware')).catch(() => [] as string[]);
  const input = { model: 'PX1', version: '1.0.0', keyId: 'k1', signature, uploadedBy: null };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: DomainError) => `${error.code}: ${error.message}`,
    );

  it('keeps a verified image: the file under <dataDir>/firmware, then the row, SHA-256 in lowercase hex', async () => {
    const kept = await upload.execute(input, readImage(image));
    expect(kept).toMatchObject({ model: 'PX1', version: '1.0.0', size: image.length, keyId: 'k1' });
    expect(kept.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await files()).toEqual([`${kept.id}.bin`]);
  });

  it('verifies before writing anything: a bad signature leaves no file and no row', async () => {
    const forged = sign(null, Buffer.from('other bytes'), pair.privateKey).toString('base64');
    expect(await refusal(upload.execute({ ...input, signature: forged }, readImage(image)))).toMatch(/^FIRMWARE_SIGNATURE_INVALID/);
    expect(await refusal(upload.execute({ ...input, signature: undefined }, readImage(image)))).toMatch(
      /^FIRMWARE_SIGNATURE_INVALID: The image is unsigned/,
    );
    expect(await refusal(upload.execute({ ...input, keyId: 'k2' }, readImage(image)))).toMatch(
      /^FIRMWARE_SIGNATURE_INVALID: No configured signing key has the id k2/,
    );
    expect(await files()).toEqual([]);
    expect(images.rows).toEqual([]);
  });

  it('refuses a version that exists before reading the body', async () => {
    await upload.execute(input, readImage(image));
    reads = 0;
    expect(await refusal(upload.execute(input, readImage(image)))).toBe('CONFLICT: PX1 already has a firmware image 1.0.0');
    expect(reads).toBe(0);
  });

  it('removes the file again when the row loses a race for the same version', async () => {
    images.loseNextRace = true;
    expect(await refusal(upload.execute(input, readImage(image)))).toMatch(/^CONFLICT/);
    expect(await files()).toEqual([]);
  });

  it('asks the source for at most firmware.maxImageBytes', async () => {
    let asked = 0;
    await upload.execute(input, async (maxBytes) => {
      asked = maxBytes;
      return image;
    });
    expect(asked).toBe(1024);
  });
});
