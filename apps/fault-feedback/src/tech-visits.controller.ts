import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CompleteVisitDto, RepairsService, type RepairView, type VisitView } from '#libs/faults';
import { CurrentUser, JwtAuthGuard, Roles, RolesGuard, type AuthUser } from '#libs/identity';

@ApiTags('technicians')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('technician')
@Controller('v1/tech/visits')
export class TechVisitsController {
  constructor(private readonly repairs: RepairsService) {}

  @Get()
  @ApiOperation({ summary: 'Own open visits' })
  list(@CurrentUser() technician: AuthUser): Promise<RepairView[]> {
    return this.repairs.openVisits(technician.id);
  }

  @Get(':id')
  @ApiOperation({
    summary: "One visit: device, fault reports as stored, the owner's contact only under repair_contact; written to the owner's access log",
  })
  read(@CurrentUser() technician: AuthUser, @Param('id', new ParseUUIDPipe()) id: string): Promise<VisitView> {
    return this.repairs.readVisit(technician.id, id);
  }

  @Post(':id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: "Complete the visit; the technician's access to it ends" })
  complete(
    @CurrentUser() technician: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: CompleteVisitDto,
  ): Promise<RepairView> {
    return this.repairs.complete(technician.id, id, body.notes);
  }
}
