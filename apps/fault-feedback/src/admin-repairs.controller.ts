import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AssignRepair,
  AssignRepairDto,
  FaultReportsService,
  FaultStatsQuery,
  RepairListQuery,
  RepairsService,
  type FaultStats,
  type RepairView,
} from '#libs/faults';
import { CurrentUser, JwtAuthGuard, Roles, RolesGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, UuidParam } from '#libs/platform';
import { FaultStatsSchema, RepairSchema } from './faults.schemas.js';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('admin')
@Controller('v1/admin')
export class AdminRepairsController {
  constructor(
    private readonly repairs: RepairsService,
    private readonly faults: FaultReportsService,
    private readonly assignRepair: AssignRepair,
  ) {}

  @Get('repairs')
  @ApiOperation({
    summary:
      "Repair tickets for dispatch, oldest first (`?status=open` for those waiting); each listing is written to the owners' access logs",
  })
  @ApiOkResponse({ type: [RepairSchema] })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN')
  list(@CurrentUser() admin: AuthUser, @Query() query: RepairListQuery): Promise<RepairView[]> {
    return this.repairs.listForDispatch(admin.id, query.status);
  }

  @Post('repairs/:id/assign')
  @HttpCode(200)
  @ApiOperation({ summary: "Assign (or reassign) a repair: it becomes that technician's visit, with the same id" })
  @ApiOkResponse({ type: RepairSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'FORBIDDEN',
    ['NOT_FOUND', 'no such repair or technician'],
    ['CONFLICT', 'the repair is completed'],
  )
  assign(@CurrentUser() admin: AuthUser, @Param('id', UuidParam) id: string, @Body() body: AssignRepairDto): Promise<RepairView> {
    return this.assignRepair.execute(admin.id, id, body.technicianId);
  }

  @Get('faults/stats')
  @ApiOperation({
    summary: 'Fault counts by model, firmware, code and day (UTC), from full and de-identified reports alike; no personal data',
  })
  @ApiOkResponse({ type: FaultStatsSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN')
  stats(@Query() query: FaultStatsQuery): Promise<FaultStats> {
    return this.faults.stats(query);
  }
}
