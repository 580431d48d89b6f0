import { Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DeviceFaultsQuery, FaultReportsService, type FaultReportView } from '#libs/faults';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, SnParam } from '#libs/platform';
import { FaultReportSchema } from './faults.schemas.js';

@ApiTags('repairs')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/devices/:sn/faults')
export class DeviceFaultsController {
  constructor(private readonly faults: FaultReportsService) {}

  @Get()
  @ApiOperation({
    summary: "The device's stored fault reports, newest first (owner and members)",
    description:
      '`limit` (1-200, default 50) per page; the next page is `?before=<X-Next-Cursor>`, also given as a `Link: <...>; rel="next"` header. No header on the last page.',
  })
  @ApiOkResponse({ type: [FaultReportSchema] })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', ['NOT_FOUND', 'no such device among yours'])
  async list(
    @CurrentUser() user: AuthUser,
    @Param('sn', SnParam) sn: string,
    @Query() query: DeviceFaultsQuery,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<FaultReportView[]> {
    const page = await this.faults.listForDevice(user.id, sn, query);
    if (page.nextCursor) {
      const next = new URLSearchParams({ ...(query.limit ? { limit: String(query.limit) } : {}), before: page.nextCursor });
      response.setHeader('X-Next-Cursor', page.nextCursor);
      response.setHeader('Link', `<${request.baseUrl}${request.path}?${next.toString()}>; rel="next"`);
    }
    return page.items;
  }
}
