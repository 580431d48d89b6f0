import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AddMemberDto, DeviceOwnership, type DeviceView, type HistoryEntry, type InvitationView, type MemberView } from '#libs/devices';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, RateLimit, SnParam, UuidParam } from '#libs/platform';
import { DeviceHistorySchema, DeviceSchema, InvitationSchema, MemberSchema } from './devices.schemas.js';

/** The caller's devices: owned and shared, unbinding, members, and the history of devices that came and left. */
@ApiTags('devices')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/devices')
export class DevicesController {
  constructor(private readonly ownership: DeviceOwnership) {}

  @Get()
  @ApiOperation({ summary: 'My devices, owned and shared: [{sn, model, role, online, lastSeenAt}]' })
  @ApiOkResponse({ type: [DeviceSchema] })
  @ApiErrors('UNAUTHORIZED')
  list(@CurrentUser() user: AuthUser): Promise<DeviceView[]> {
    return this.ownership.list(user.id);
  }

  @Get('history')
  @ApiOperation({
    summary: 'When devices came and how they left (bound, unbound, factory_reset, shared, unshared, owner_left), newest first',
  })
  @ApiOkResponse({ type: [DeviceHistorySchema] })
  @ApiErrors('UNAUTHORIZED')
  history(@CurrentUser() user: AuthUser): Promise<HistoryEntry[]> {
    return this.ownership.historyOf(user.id);
  }

  @Delete(':sn')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unbind (owner only); the device keeps its credentials, members lose access' })
  @ApiNoContentResponse({ description: 'Unbound' })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', ['FORBIDDEN', 'a member, not the owner'], ['NOT_FOUND', 'no such device among yours'])
  async unbind(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string): Promise<void> {
    await this.ownership.unbind(user.id, sn);
  }

  @Get(':sn/members')
  @ApiOperation({ summary: 'Who the device is shared with (owner only)' })
  @ApiOkResponse({ type: [MemberSchema] })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', ['FORBIDDEN', 'a member, not the owner'], ['NOT_FOUND', 'no such device among yours'])
  members(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string): Promise<MemberView[]> {
    return this.ownership.members(user.id, sn);
  }

  @Post(':sn/members')
  @RateLimit('members')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Share with whoever signs in with this phone (owner only): the same answer whether or not the phone has an account; ' +
      'the share becomes a membership when that phone next signs in or renews its login, within 30 days',
  })
  @ApiAcceptedResponse({ type: InvitationSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    ['FORBIDDEN', 'a member, not the owner'],
    ['NOT_FOUND', 'no such device among yours'],
    ['CONFLICT', "the owner's own phone"],
    ['TOO_MANY_REQUESTS', 'too many shares from this address (Retry-After)'],
  )
  addMember(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string, @Body() body: AddMemberDto): Promise<InvitationView> {
    return this.ownership.addMember(user.id, sn, body.phone);
  }

  @Delete(':sn/members/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop sharing with a member (owner), or leave (the member themself)' })
  @ApiNoContentResponse({ description: 'No longer a member' })
  @ApiErrors(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    ['FORBIDDEN', 'neither the owner nor that member'],
    ['NOT_FOUND', 'no such device among yours, or not a member'],
  )
  async removeMember(
    @CurrentUser() user: AuthUser,
    @Param('sn', SnParam) sn: string,
    @Param('userId', UuidParam) userId: string,
  ): Promise<void> {
    await this.ownership.removeMember(user.id, sn, userId);
  }
}
