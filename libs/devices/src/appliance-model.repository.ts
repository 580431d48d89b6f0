import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ModelDefinition, PointDefinition } from './appliance-model.js';

/** appliance_models: one definition per model, replaced whole. */
@Injectable()
export class ApplianceModelRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(model: string, manager: EntityManager = this.dataSource.manager): Promise<ModelDefinition | undefined> {
    const [row] = (await manager.query('SELECT model, name, points FROM appliance_models WHERE model = $1', [model])) as Array<{
      model: string;
      name: string;
      points: PointDefinition[];
    }>;
    return row ? { model: row.model, name: row.name, points: row.points } : undefined;
  }

  /** Inserts the definition, or replaces the one stored. */
  async replace(definition: ModelDefinition, at: Date, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(
      `INSERT INTO appliance_models (model, name, points, updated_at) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (model) DO UPDATE SET name = EXCLUDED.name, points = EXCLUDED.points, updated_at = EXCLUDED.updated_at`,
      [definition.model, definition.name, JSON.stringify(definition.points), at],
    );
  }
}
