import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CompleteVisit, CompleteVisitDto, ReadVisit, RepairsService, type RepairView, type VisitView } from '#libs/faults';
import { CurrentUser, JwtAuthGuard, Roles, RolesGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, UuidParam } from '#libs/platform';
import { RepairSchema, VisitSchema } from './faults.schemas.js';

@ApiTags('technicians')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('technician')
@Controller('v1/tech/visits')
export class TechVisitsController {
  constructor(
    private readonly repairs: RepairsService,
    private readonly readVisit: ReadVisit,
    private readonly completeVisit: CompleteVisit,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Own open visits' })
  @ApiOkResponse({ type: [RepairSchema] })
  @ApiErrors('UNAUTHORIZED', ['FORBIDDEN', 'not a technician'])
  list(@CurrentUser() technician: AuthUser): Promise<RepairView[]> {
    return this.repairs.openVisits(technician.id);
  }

  @Get(':id')
  @ApiOperation({
    summary: "One visit: device, fault reports as stored, the owner's contact only under repair_contact; written to the owner's access log",
  })
  @ApiOkResponse({ type: VisitSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    ['FORBIDDEN', 'not a technician, not your visit, or completed'],
    ['NOT_FOUND', 'no such repair'],
  )
  read(@CurrentUser() technician: AuthUser, @Param('id', UuidParam) id: string): Promise<VisitView> {
    return this.readVisit.execute(technician.id, id);
  }

  @Post(':id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: "Complete the visit; the technician's access to it ends" })
  @ApiOkResponse({ type: RepairSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    ['FORBIDDEN', 'not a technician, not your visit, or completed'],
    ['NOT_FOUND', 'no such repair'],
  )
  complete(@CurrentUser() technician: AuthUser, @Param('id', UuidParam) id: string, @Body() body: CompleteVisitDto): Promise<RepairView> {
    return this.completeVisit.execute(technician.id, id, body.notes);
  }
}
