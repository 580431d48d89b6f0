import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { DomainError } from '#libs/platform';
import type { FirmwareImageEntity } from './firmware-image.entity.js';
import { FirmwareImageRepository } from './firmware-image.repository.js';
import { FirmwareStorage } from './firmware-storage.js';
import { decodeBase64, FirmwareSignatureVerifier } from './signature-verifier.js';

export interface UploadFirmwareInput {
  model: string;
  version: string;
  keyId?: string;
  /** Base64 Ed25519 signature over the image bytes. */
  signature?: string;
  uploadedBy: string | null;
}

/** Reads the image from wherever it comes (the HTTP body); refuses with PAYLOAD_TOO_LARGE beyond `maxBytes` without reading on. */
export type ImageSource = (maxBytes: number) => Promise<Buffer>;

/**
 * Keeps a signed image. Nothing is kept unless every check passed: an existing
 * model and version is refused before the body is read, the signature must be
 * verified by a configured key before anything is written, and the row is
 * inserted only after the file is in place (the file is removed again if the
 * row loses a race for the same version).
 */
@Injectable()
export class UploadFirmware {
  constructor(
    private readonly images: FirmwareImageRepository,
    private readonly storage: FirmwareStorage,
    private readonly verifier: FirmwareSignatureVerifier,
    private readonly config: AppConfig,
  ) {}

  async execute(input: UploadFirmwareInput, readImage: ImageSource): Promise<FirmwareImageEntity> {
    if (await this.images.exists(input.model, input.version)) throw conflict(input);
    if (!input.signature) throw invalidSignature('The image is unsigned: signature (base64 Ed25519 over the image bytes) is required');
    const signature = decodeBase64(input.signature);
    if (!signature || signature.length !== 64) throw invalidSignature('signature must be the 64-byte Ed25519 signature, in base64');
    if (input.keyId !== undefined && !this.verifier.keyIds.includes(input.keyId)) {
      throw invalidSignature(`No configured signing key has the id ${input.keyId}`);
    }

    const image = await readImage(this.config.firmware.maxImageBytes);
    if (image.length === 0) throw new DomainError('VALIDATION_FAILED', 'The image is empty');
    const keyId = this.verifier.verifiedBy(image, signature, input.keyId);
    if (!keyId)
      throw invalidSignature(
        input.keyId ? `Key ${input.keyId} does not verify this signature` : 'No configured key verifies this signature',
      );

    const record = {
      id: randomUUID(),
      model: input.model,
      version: input.version,
      size: image.length,
      sha256: createHash('sha256').update(image).digest('hex'),
      signature: signature.toString('base64'),
      keyId,
      uploadedBy: input.uploadedBy,
    };
    await this.storage.save(record.id, image);
    let inserted = false;
    try {
      inserted = await this.images.insert(record);
    } finally {
      if (!inserted) await this.storage.remove(record.id);
    }
    if (!inserted) throw conflict(input);
    return (await this.images.findById(record.id))!;
  }
}

function conflict(input: UploadFirmwareInput): DomainError {
  return new DomainError('CONFLICT', `${input.model} already has a firmware image ${input.version}`);
}

function invalidSignature(message: string): DomainError {
  return new DomainError('FIRMWARE_SIGNATURE_INVALID', message);
}
