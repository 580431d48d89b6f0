import 'reflect-metadata';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { POINT_TYPES, type ModelDefinition, type PointDefinition, type PointType } from './appliance-model.js';

/**
 * OpenAPI shapes of model definitions. The body of PUT /v1/admin/models/:model
 * is read by readModelDefinition (appliance-model.ts), which names the point
 * in each error; these classes only describe it.
 */
export class PointDefinitionDto implements PointDefinition {
  @ApiProperty({ example: 'target_temp', pattern: '^[a-z][a-z0-9_]{0,39}$' }) id!: string;
  @ApiProperty({ enum: POINT_TYPES, example: 'number' }) type!: PointType;
  @ApiProperty({ description: 'The app may set it (desired state)' }) writable!: boolean;
  @ApiProperty({ description: 'Its readings are kept over time (telemetry)' }) history!: boolean;
  @ApiPropertyOptional({ example: '°C' }) unit?: string;
  @ApiPropertyOptional({ description: 'integer and number only' }) min?: number;
  @ApiPropertyOptional({ description: 'integer and number only' }) max?: number;
  @ApiPropertyOptional({ type: [String], description: 'enum only, required there' }) values?: string[];
  @ApiPropertyOptional({ description: 'string only, required there' }) maxLength?: number;
}

export class DefineModelDto {
  @ApiProperty({ example: 'Water heater HT1' }) name!: string;
  @ApiProperty({ type: [PointDefinitionDto] }) points!: PointDefinitionDto[];
}

export class ModelDefinitionView extends DefineModelDto {
  @ApiProperty({ example: 'HT1' }) model!: string;
}

export function toModelView(definition: ModelDefinition): ModelDefinitionView {
  return {
    model: definition.model,
    name: definition.name,
    points: definition.points.map((point) => ({ ...point, ...(point.values ? { values: [...point.values] } : {}) })),
  };
}
