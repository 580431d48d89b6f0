import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PairingService, StartPairingDto, type PairingStatus } from '#libs/devices';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { DomainError, RateLimit } from '#libs/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type PairingAnswer =
  | { pairingId: string; sn: string; token: string; expiresAt: string }
  | { pairingId: string | null; sn: string; status: 'bound'; boundAt: string };

@ApiTags('pairing')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/pairings')
export class PairingsController {
  constructor(private readonly pairings: PairingService) {}

  @Post()
  @RateLimit('pairings')
  @ApiOperation({
    summary: 'Start pairing an appliance by its QR label or SN',
    description:
      '201 {pairingId, sn, token, expiresAt}: carry the token to the appliance, which confirms it over MQTT. ' +
      '200 {pairingId, sn, status:"bound", boundAt} when the caller already owns the appliance (no second binding). ' +
      '409 DEVICE_ALREADY_BOUND when another account owns it.',
  })
  async start(
    @CurrentUser() user: AuthUser,
    @Body() body: StartPairingDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PairingAnswer> {
    const result = await this.pairings.start(user.id, body);
    if (result.kind === 'already_yours') {
      response.status(200);
      return { pairingId: result.pairingId, sn: result.sn, status: result.status, boundAt: result.boundAt };
    }
    response.status(201);
    return { pairingId: result.pairingId, sn: result.sn, token: result.token, expiresAt: result.expiresAt };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Status of my pairing: pending, bound, expired or rejected' })
  status(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<{ status: PairingStatus }> {
    if (!UUID.test(id)) throw new DomainError('VALIDATION_FAILED', 'pairing id must be a UUID');
    return this.pairings.statusOf(user.id, id);
  }
}
