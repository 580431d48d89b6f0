import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AddMemberDto, DeviceOwnership, type DeviceView, type HistoryEntry, type MemberView } from '#libs/devices';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { RateLimit, SnParam, UuidParam } from '#libs/platform';

/** The caller's devices: owned and shared, unbinding, members, and the history of devices that came and left. */
@ApiTags('devices')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/devices')
export class DevicesController {
  constructor(private readonly ownership: DeviceOwnership) {}

  @Get()
  @ApiOperation({ summary: 'My devices, owned and shared: [{sn, model, role, online, lastSeenAt}]' })
  list(@CurrentUser() user: AuthUser): Promise<DeviceView[]> {
    return this.ownership.list(user.id);
  }

  @Get('history')
  @ApiOperation({
    summary: 'When devices came and how they left (bound, unbound, factory_reset, shared, unshared, owner_left), newest first',
  })
  history(@CurrentUser() user: AuthUser): Promise<HistoryEntry[]> {
    return this.ownership.historyOf(user.id);
  }

  @Delete(':sn')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unbind (owner only); the device keeps its credentials, members lose access' })
  async unbind(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string): Promise<void> {
    await this.ownership.unbind(user.id, sn);
  }

  @Get(':sn/members')
  @ApiOperation({ summary: 'Who the device is shared with (owner only)' })
  members(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string): Promise<MemberView[]> {
    return this.ownership.members(user.id, sn);
  }

  @Post(':sn/members')
  @RateLimit('members')
  @HttpCode(201)
  @ApiOperation({ summary: 'Share with the account of this phone (owner only); members see status and faults, cannot unbind or share' })
  addMember(@CurrentUser() user: AuthUser, @Param('sn', SnParam) sn: string, @Body() body: AddMemberDto): Promise<MemberView> {
    return this.ownership.addMember(user.id, sn, body.phone);
  }

  @Delete(':sn/members/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop sharing with a member (owner), or leave (the member themself)' })
  async removeMember(
    @CurrentUser() user: AuthUser,
    @Param('sn', SnParam) sn: string,
    @Param('userId', UuidParam) userId: string,
  ): Promise<void> {
    await this.ownership.removeMember(user.id, sn, userId);
  }
}
