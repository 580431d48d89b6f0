import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ReadPairingStatus, StartPairing, StartPairingDto, type PairingStatus, type StartPairingInput } from '#libs/devices';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, RateLimit, UuidParam } from '#libs/platform';
import { AlreadyYoursSchema, PairingStartedSchema, PairingStatusSchema } from './devices.schemas.js';

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
  @ApiCreatedResponse({ type: PairingStartedSchema })
  @ApiOkResponse({ type: AlreadyYoursSchema, description: 'The caller already owns the appliance' })
  @ApiErrors(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    ['FORBIDDEN', 'wrong claim code'],
    ['NOT_FOUND', 'no such device'],
    ['DEVICE_ALREADY_BOUND', 'another account owns it'],
    ['TOO_MANY_REQUESTS', 'five wrong claim codes in an hour, or too many calls from this address (Retry-After)'],
  )
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
  @ApiOkResponse({ type: PairingStatusSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', ['NOT_FOUND', 'no such pairing of yours'])
  status(@CurrentUser() user: AuthUser, @Param('id', UuidParam) id: string): Promise<{ status: PairingStatus }> {
    return this.readStatus.execute(user.id, id);
  }
}
