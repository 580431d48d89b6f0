import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { IsSn, IsUuidFormat } from '#libs/platform';
import { REPAIR_STATUSES, type RepairStatus } from './repair-ticket.entity.js';

export class OpenRepairDto {
  @ApiProperty({ example: 'PX1-0001' })
  @IsString()
  @IsSn()
  sn!: string;
  @ApiProperty({ example: 'No hot water since Monday' }) @IsString() @Length(1, 2000) description!: string;
}

export class AssignRepairDto {
  @ApiProperty({ description: "The technician's user id (as answered by POST /v1/admin/technicians)" })
  @IsString()
  @IsUuidFormat()
  technicianId!: string;
}

export class CompleteVisitDto {
  @ApiProperty({ example: 'Replaced the heating element' }) @IsString() @Length(0, 4000) notes!: string;
}

export class RepairListQuery {
  @ApiPropertyOptional({ enum: REPAIR_STATUSES }) @IsOptional() @IsIn(REPAIR_STATUSES) status?: RepairStatus;
}

export const FAULT_PAGE_DEFAULT = 50;
export const FAULT_PAGE_MAX = 200;

export class DeviceFaultsQuery {
  @ApiPropertyOptional({ description: `Reports per page, 1-${FAULT_PAGE_MAX} (default ${FAULT_PAGE_DEFAULT})` })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FAULT_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'The X-Next-Cursor of the previous page: reports older than its last one' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  before?: string;
}

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export class FaultStatsQuery {
  @ApiPropertyOptional({ example: '2026-01-01', description: 'First day counted (UTC), inclusive' })
  @IsOptional()
  @Matches(DAY_PATTERN, { message: 'from must be a day like 2026-01-31' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-01-31', description: 'Last day counted (UTC), inclusive' })
  @IsOptional()
  @Matches(DAY_PATTERN, { message: 'to must be a day like 2026-01-31' })
  to?: string;
}
