import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, SnParam } from '#libs/platform';
import { BucketView, DeviceTelemetryQuery, ReadDeviceTelemetry, ReadingView, RAW_LIMIT } from '#libs/telemetry';

/** A device's readings for its owner and members: raw, or hourly / daily summaries. */
@ApiTags('telemetry')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/devices/:sn/telemetry')
export class DeviceTelemetryController {
  constructor(private readonly readTelemetry: ReadDeviceTelemetry) {}

  @Get()
  @ApiOperation({
    summary: "A point's history (owner and members), held for the device's owner of the moment",
    description:
      `\`bucket=raw\` (default): \`[{at, value}]\`, oldest first, at most ${RAW_LIMIT.toLocaleString('en')}; when there are more, ` +
      'the `X-Next-From` header gives the time of the next reading (pass it as `from`). `bucket=hour` or `day`: ' +
      '`[{at, count, min, max, avg}]` for numeric points, from summaries kept as readings arrive.',
  })
  @ApiExtraModels(ReadingView, BucketView)
  @ApiOkResponse({
    description: 'Readings (bucket=raw) or summaries (bucket=hour|day)',
    schema: {
      oneOf: [
        { type: 'array', items: { $ref: getSchemaPath(ReadingView) } },
        { type: 'array', items: { $ref: getSchemaPath(BucketView) } },
      ],
    },
  })
  @ApiErrors(
    ['VALIDATION_FAILED', 'an unknown or non-history point, a bad time or range, bucket=hour|day on a point that is not numeric'],
    ['UNAUTHORIZED', 'no valid access token'],
    ['FORBIDDEN', 'not the owner or a member of the device'],
  )
  async read(
    @CurrentUser() user: AuthUser,
    @Param('sn', SnParam) sn: string,
    @Query() query: DeviceTelemetryQuery,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ReadingView[] | BucketView[]> {
    const answer = await this.readTelemetry.execute(user.id, sn, query);
    if (answer.bucket !== 'raw') return answer.buckets;
    if (answer.nextFrom) response.setHeader('X-Next-From', answer.nextFrom);
    return answer.readings;
  }
}
