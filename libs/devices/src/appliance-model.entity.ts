import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PointDefinition } from './appliance-model.js';

/** An appliance model's definition: its data points. The registry's `model` of a device names it. */
@Entity('appliance_models')
export class ApplianceModelEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) model!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ type: 'jsonb' }) points!: PointDefinition[];
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}
