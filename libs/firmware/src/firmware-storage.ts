import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';

/**
 * Firmware images as files, out of the database's hot path: one file per
 * image under firmware.storageDir (default <dataDir>/firmware), named by the
 * image id. A file appears only whole: it is written under a temporary name,
 * flushed, then renamed.
 */
@Injectable()
export class FirmwareStorage {
  readonly directory: string;

  constructor(config: AppConfig) {
    const configured = config.firmware.storageDir;
    this.directory = configured ? (isAbsolute(configured) ? configured : resolve(configured)) : resolve(config.dataDir, 'firmware');
  }

  pathOf(imageId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(imageId)) throw new Error('not an image id');
    return join(this.directory, `${imageId}.bin`);
  }

  async save(imageId: string, bytes: Buffer): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const temporary = join(this.directory, `.upload-${randomUUID()}.tmp`);
    try {
      const file = await open(temporary, 'wx', 0o640);
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.pathOf(imageId));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async remove(imageId: string): Promise<void> {
    await rm(this.pathOf(imageId), { force: true });
  }

  /** The image's size on disk, or null when its file is missing. */
  async sizeOf(imageId: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(imageId))).size;
    } catch {
      return null;
    }
  }
}
