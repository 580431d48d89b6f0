import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '#libs/platform';
import { OpenRepair, OpenRepairDto, RepairsService, type OwnRepairView, type RepairView } from '#libs/faults';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { OwnRepairSchema, RepairSchema } from './faults.schemas.js';

@ApiTags('repairs')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/repairs')
export class RepairsController {
  constructor(
    private readonly repairs: RepairsService,
    private readonly openRepair: OpenRepair,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'The owner asks for a repair of their device' })
  @ApiCreatedResponse({ type: RepairSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', ['FORBIDDEN', 'not the owner'], ['NOT_FOUND', 'no such device among yours'])
  open(@CurrentUser() user: AuthUser, @Body() body: OpenRepairDto): Promise<RepairView> {
    return this.openRepair.execute(user.id, body.sn, body.description);
  }

  @Get()
  @ApiOperation({ summary: "The caller's own repair tickets, newest first, each with its status history" })
  @ApiOkResponse({ type: [OwnRepairSchema] })
  @ApiErrors('UNAUTHORIZED')
  listOwn(@CurrentUser() user: AuthUser): Promise<OwnRepairView[]> {
    return this.repairs.listOwn(user.id);
  }
}
