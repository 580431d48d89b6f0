import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FAULT_SEVERITY_VALUES, REPAIR_STATUSES } from '#libs/faults';

// OpenAPI response schemas of fault-feedback's routes (the answers are built by #libs/faults' views).

export class FaultDiagnosticsSchema {
  @ApiPropertyOptional({ example: 'AA:BB:CC:DD:EE:FF' }) mac?: string;
  @ApiPropertyOptional() routerMac?: string;
  @ApiPropertyOptional() wifiName?: string;
  @ApiPropertyOptional() rssi?: number;
  @ApiPropertyOptional() ip?: string;
}

export class FaultReportSchema {
  @ApiProperty({ format: 'uuid' }) reportId!: string;
  @ApiProperty({ enum: ['full', 'deidentified'] }) stored!: string;
  @ApiProperty({ nullable: true, example: 'PX1-0001' }) sn!: string | null;
  @ApiProperty({ example: 'PURIFIER-X1' }) model!: string;
  @ApiProperty({ nullable: true, example: '1.2.0' }) firmware!: string | null;
  @ApiProperty({ example: 'E42' }) code!: string;
  @ApiProperty({ enum: FAULT_SEVERITY_VALUES }) severity!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
  @ApiProperty({ type: FaultDiagnosticsSchema, nullable: true }) diagnostics!: FaultDiagnosticsSchema | null;
}

export class RepairSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: REPAIR_STATUSES }) status!: string;
  @ApiProperty({ nullable: true, example: 'PX1-0001' }) sn!: string | null;
  @ApiProperty({ example: 'PURIFIER-X1' }) model!: string;
  @ApiProperty({ nullable: true }) description!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'uuid', nullable: true }) technicianId!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true }) assignedAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true }) closedAt!: string | null;
}

export class RepairHistoryEntrySchema {
  @ApiProperty({ enum: REPAIR_STATUSES }) status!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ format: 'uuid', nullable: true }) technicianId!: string | null;
}

export class OwnRepairSchema extends RepairSchema {
  @ApiProperty({ type: [RepairHistoryEntrySchema] }) history!: RepairHistoryEntrySchema[];
}

export class VisitDeviceSchema {
  @ApiProperty({ nullable: true, example: 'PX1-0001' }) sn!: string | null;
  @ApiProperty({ example: 'PURIFIER-X1' }) model!: string;
}

export class ContactSchema {
  @ApiProperty({ nullable: true }) name!: string | null;
  @ApiProperty({ nullable: true }) phone!: string | null;
}

export class VisitSchema {
  @ApiProperty({ type: RepairSchema }) repair!: RepairSchema;
  @ApiProperty({ type: VisitDeviceSchema }) device!: VisitDeviceSchema;
  @ApiProperty({ type: ContactSchema, nullable: true, description: 'Only while the owner grants repair_contact' })
  contact!: ContactSchema | null;
  @ApiProperty({ type: [FaultReportSchema] }) faults!: FaultReportSchema[];
}

export class TechnicianSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true }) name!: string | null;
  @ApiProperty({ nullable: true, example: '+8613800138000' }) phone!: string | null;
}

export class CountByModelSchema {
  @ApiProperty() model!: string;
  @ApiProperty() count!: number;
}
export class CountByFirmwareSchema {
  @ApiProperty({ nullable: true }) firmware!: string | null;
  @ApiProperty() count!: number;
}
export class CountByCodeSchema {
  @ApiProperty() code!: string;
  @ApiProperty() count!: number;
}
export class CountByDaySchema {
  @ApiProperty({ format: 'date' }) day!: string;
  @ApiProperty() count!: number;
}
export class CountRowSchema {
  @ApiProperty() model!: string;
  @ApiProperty({ nullable: true }) firmware!: string | null;
  @ApiProperty() code!: string;
  @ApiProperty({ format: 'date' }) day!: string;
  @ApiProperty() count!: number;
}

export class FaultStatsSchema {
  @ApiProperty() total!: number;
  @ApiProperty({ type: [CountByModelSchema] }) byModel!: CountByModelSchema[];
  @ApiProperty({ type: [CountByFirmwareSchema] }) byFirmware!: CountByFirmwareSchema[];
  @ApiProperty({ type: [CountByCodeSchema] }) byCode!: CountByCodeSchema[];
  @ApiProperty({ type: [CountByDaySchema] }) byDay!: CountByDaySchema[];
  @ApiProperty({ type: [CountRowSchema], description: 'Every combination of the four, for a pivot table' }) rows!: CountRowSchema[];
}
