import { Injectable } from '@nestjs/common';
import { DomainError } from '#libs/platform';
import { readModelDefinition, type ModelDefinition } from './appliance-model.js';
import { ApplianceModelRepository } from './appliance-model.repository.js';
import { ModelCatalog } from './model-catalog.js';

/**
 * PUT /v1/admin/models/:model: the model's data points, replacing any
 * previous definition whole. Refused with every reason, each naming its
 * point, and nothing stored, when one point is wrong.
 */
@Injectable()
export class DefineModel {
  constructor(
    private readonly models: ApplianceModelRepository,
    private readonly catalog: ModelCatalog,
  ) {}

  async execute(model: string, body: unknown, now = new Date()): Promise<ModelDefinition> {
    const read = readModelDefinition(model, body);
    if (!read.ok) throw new DomainError('VALIDATION_FAILED', read.reasons.join('; '));
    await this.models.replace(read.value, now);
    this.catalog.forget(model);
    return read.value;
  }
}

/** GET /v1/models/:model: the definition, or 404. */
@Injectable()
export class ReadModel {
  constructor(private readonly catalog: ModelCatalog) {}

  async execute(model: string): Promise<ModelDefinition> {
    const definition = await this.catalog.definitionOf(model);
    if (!definition) throw new DomainError('NOT_FOUND', 'No definition for this model');
    return definition;
  }
}
