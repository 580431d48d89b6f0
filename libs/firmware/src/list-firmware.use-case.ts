import { Injectable } from '@nestjs/common';
import type { FirmwareImageEntity } from './firmware-image.entity.js';
import { FirmwareImageRepository } from './firmware-image.repository.js';

/** Every image, newest first, or those of one model. */
@Injectable()
export class ListFirmware {
  constructor(private readonly images: FirmwareImageRepository) {}

  execute(model?: string): Promise<FirmwareImageEntity[]> {
    return this.images.list(model);
  }
}
