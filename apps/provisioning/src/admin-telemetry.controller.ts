import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JwtAuthGuard, Roles, RolesGuard } from '#libs/identity';
import { ApiErrors } from '#libs/platform';
import { MIN_DEVICES_PER_BUCKET, ReadModelStatistics, StatisticsBucketView, StatisticsQuery } from '#libs/telemetry';

/** The maker's statistics of appliance readings: per model and point, no SN, no person. */
@ApiTags('telemetry')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('admin')
@Controller('v1/admin/telemetry')
export class AdminTelemetryController {
  constructor(private readonly readStatistics: ReadModelStatistics) {}

  @Get('aggregates')
  @ApiOperation({
    summary: "A model's point per hour or day, over readings whose owner had product_improvement live when they arrived",
    description: `Buckets with fewer than ${MIN_DEVICES_PER_BUCKET} distinct devices are left out. Oldest first.`,
  })
  @ApiOkResponse({ type: [StatisticsBucketView] })
  @ApiErrors(
    ['VALIDATION_FAILED', 'a missing or non-numeric point, a bad time or range'],
    ['UNAUTHORIZED', 'no valid access token'],
    ['FORBIDDEN', 'not an admin'],
    ['NOT_FOUND', 'no definition for this model'],
  )
  aggregates(@Query() query: StatisticsQuery): Promise<StatisticsBucketView[]> {
    return this.readStatistics.execute(query);
  }
}
