import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ModelDefinition } from './appliance-model.js';
import { ApplianceModelRepository } from './appliance-model.repository.js';
import { DeviceRepository } from './device.repository.js';

/** How long a definition is trusted without reading it again (another replica may have replaced it). */
export const MODEL_CACHE_MS = 10_000;
/** Devices whose model is remembered (a device's model never changes). */
const DEVICE_MODELS_KEPT = 100_000;

/**
 * Definitions of appliance models, for every context that judges a value
 * against its point (state, control, telemetry). Reports arrive at device
 * rate, so definitions are kept in memory for MODEL_CACHE_MS (a replacement
 * made through this process is seen at once, one made by another replica
 * within that time), and each device's model once read.
 */
@Injectable()
export class ModelCatalog {
  private readonly definitions = new Map<string, { definition: ModelDefinition | null; until: number }>();
  private readonly deviceModels = new Map<string, string>();

  constructor(
    private readonly models: ApplianceModelRepository,
    private readonly devices: DeviceRepository,
  ) {}

  /** The model's definition, or null when it has none. Frozen: callers must not change it. */
  async definitionOf(model: string, manager?: EntityManager): Promise<ModelDefinition | null> {
    const cached = this.definitions.get(model);
    if (cached && cached.until > Date.now()) return cached.definition;
    const found = (await this.models.find(model, manager)) ?? null;
    const definition = found ? deepFreeze(found) : null;
    this.definitions.set(model, { definition, until: Date.now() + MODEL_CACHE_MS });
    return definition;
  }

  /** The device's model and that model's definition (null when the model has none); undefined when no device has this SN. */
  async definitionOfDevice(
    sn: string,
    manager?: EntityManager,
  ): Promise<{ model: string; definition: ModelDefinition | null } | undefined> {
    let model = this.deviceModels.get(sn);
    if (model === undefined) {
      model = await this.devices.modelOf(sn, manager);
      if (model === undefined) return undefined;
      if (this.deviceModels.size >= DEVICE_MODELS_KEPT) this.deviceModels.delete(this.deviceModels.keys().next().value!);
      this.deviceModels.set(sn, model);
    }
    return { model, definition: await this.definitionOf(model, manager) };
  }

  /** A definition was replaced through this process: forget the old one now. */
  forget(model: string): void {
    this.definitions.delete(model);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
