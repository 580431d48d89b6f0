import { Body, Controller, Get, HttpCode, Param, Put, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  DesiredAcceptedView,
  DeviceStateView,
  ReadDeviceState,
  ReadStateHistory,
  ReportedPointView,
  SetDesiredState,
  SetDesiredStateDto,
  StateHistoryEntryView,
} from '#libs/devices';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, SnParam } from '#libs/platform';

/** A device's live state and its control, for its owner and members; nobody else learns the device exists. */
@ApiTags('state')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@ApiExtraModels(ReportedPointView)
@Controller('v1/devices/:sn/state')
export class DeviceStateController {
  constructor(
    private readonly readState: ReadDeviceState,
    private readonly readHistory: ReadStateHistory,
    private readonly setDesired: SetDesiredState,
  ) {}

  @Get()
  @ApiOperation({ summary: "A device's presence, reported state (per point with its time) and current desired state" })
  @ApiOkResponse({ type: DeviceStateView })
  @ApiErrors(
    ['VALIDATION_FAILED', 'a malformed SN'],
    ['UNAUTHORIZED', 'no valid access token'],
    ['NOT_FOUND', 'no such device among yours'],
  )
  read(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string): Promise<DeviceStateView> {
    return this.readState.execute(user.id, sn);
  }

  @Put('desired')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ask the appliance to change writable points',
    description:
      'The values are judged against the model (unknown, not writable, wrong type or out of range: 400 naming the point, nothing sent). ' +
      'A request while one is pending merges into it under a new version; all pending values go to the device as its retained ' +
      '`devices/<sn>/state/desired` message until it applies or rejects them, or they expire.',
  })
  @ApiBody({ type: SetDesiredStateDto })
  @ApiAcceptedResponse({ type: DesiredAcceptedView })
  @ApiErrors(
    [
      'VALIDATION_FAILED',
      'a point that is unknown, not writable, of the wrong type or out of range (the message names it), no point, a bad ttlSeconds',
    ],
    ['UNAUTHORIZED', 'no valid access token'],
    ['NOT_FOUND', 'no such device among yours'],
    ['VERSION_CONFLICT', 'ifVersion is not the current desired version'],
    ['UNAVAILABLE', 'the broker did not take the message; nothing was kept'],
  )
  set(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string, @Body() body: unknown): Promise<DesiredAcceptedView> {
    // The body is read by readDesiredRequest, which names the point in every error.
    return this.setDesired.execute(user.id, sn, body);
  }

  @Get('history')
  @ApiOperation({ summary: 'Who asked for what and what the appliance did, newest first (the owner of the moment only)' })
  @ApiOkResponse({ type: [StateHistoryEntryView] })
  @ApiErrors(
    ['VALIDATION_FAILED', 'a malformed SN'],
    ['UNAUTHORIZED', 'no valid access token'],
    ['NOT_FOUND', 'no such device among yours'],
  )
  history(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string): Promise<StateHistoryEntryView[]> {
    return this.readHistory.execute(user.id, sn);
  }
}
