import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, JwtAuthGuard, Roles, RolesGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, UuidParam } from '#libs/platform';
import { ReadVisitTelemetry, VisitTelemetryView } from '#libs/telemetry';

/** During a technician's open visit: the device's readings of the last 24 hours. */
@ApiTags('technicians')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('technician')
@Controller('v1/tech/visits/:id/telemetry')
export class VisitTelemetryController {
  constructor(private readonly readTelemetry: ReadVisitTelemetry) {}

  @Get()
  @ApiOperation({ summary: "The visit's device readings of the last 24 hours, every history point; written to the owner's access log" })
  @ApiOkResponse({ type: VisitTelemetryView })
  @ApiErrors(
    ['VALIDATION_FAILED', 'the id is not a UUID'],
    ['UNAUTHORIZED', 'no valid access token'],
    ['FORBIDDEN', 'not a technician, or not their open visit'],
    ['NOT_FOUND', 'no repair has this id'],
  )
  read(@CurrentUser() technician: AuthUser, @Param('id', UuidParam) id: string): Promise<VisitTelemetryView> {
    return this.readTelemetry.execute(technician.id, id);
  }
}
