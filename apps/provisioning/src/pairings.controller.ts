import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ReadPairingStatus, StartPairing, StartPairingDto, type PairingStatus, type StartPairingInput } from '#libs/devices';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { RateLimit, UuidParam } from '#libs/platform';

export type PairingAnswer =
  | { pairingId: string; sn: string; token: string; expiresAt: string }
  | { pairingId: string | null; sn: string; status: 'bound'; boundAt: string };

@ApiTags('pairing')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/pairings')
export class PairingsController {
  constructor(
    private readonly startPairing: StartPairing,
    private readonly readStatus: ReadPairingStatus,
  ) {}

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
    // The DTO admits exactly one of qr and sn.
    const result = await this.startPairing.execute(user.id, body as StartPairingInput);
    if (result.kind === 'already_yours') {
      response.status(200);
      return { pairingId: result.pairingId, sn: result.sn, status: result.status, boundAt: result.boundAt };
    }
    response.status(201);
    return { pairingId: result.pairingId, sn: result.sn, token: result.token, expiresAt: result.expiresAt };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Status of my pairing: pending, bound, expired or rejected' })
  status(@CurrentUser() user: AuthUser, @Param('id', UuidParam) id: string): Promise<{ status: PairingStatus }> {
    return this.readStatus.execute(user.id, id);
  }
}
