import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { FirmwareImageEntity } from './firmware-image.entity.js';

@Injectable()
export class FirmwareImageRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<FirmwareImageEntity | null> {
    return manager.getRepository(FirmwareImageEntity).findOneBy({ id });
  }

  async exists(model: string, version: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return manager.getRepository(FirmwareImageEntity).existsBy({ model, version });
  }

  /** False when the model already has this version (the unique constraint decides, not a prior read). */
  async insert(image: Omit<FirmwareImageEntity, 'createdAt'>, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const rows = (await manager.query(
      `INSERT INTO firmware_images (id, model, version, size, sha256, signature, key_id, uploaded_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (model, version) DO NOTHING
       RETURNING id`,
      [image.id, image.model, image.version, image.size, image.sha256, image.signature, image.keyId, image.uploadedBy],
    )) as Array<{ id: string }>;
    return rows.length === 1;
  }

  /** Newest first, all models or one. */
  list(model?: string, manager: EntityManager = this.dataSource.manager): Promise<FirmwareImageEntity[]> {
    return manager.getRepository(FirmwareImageEntity).find({ where: model ? { model } : {}, order: { createdAt: 'DESC' }, take: 1000 });
  }
}
