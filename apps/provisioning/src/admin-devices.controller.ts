import { Controller, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { DeviceRegistry, parseDevicesCsv, validateDeviceRows } from '#libs/devices';
import { JwtAuthGuard, Roles, RolesGuard } from '#libs/identity';
import { ApiErrors, DomainError, SnParam } from '#libs/platform';
import { RegisteredDeviceSchema, RevokedSchema, RotatedSecretSchema } from './devices.schemas.js';

/** One line of the answer: a new device with its secret (shown this once), or an SN left as it was. */
export type RegisteredDeviceView =
  | { sn: string; status: 'registered'; deviceSecret: string; qr: string }
  | { sn: string; status: 'already_registered' | 'duplicate_in_batch' };

const MAX_CSV_BYTES = 16 * 1024 * 1024;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('admin')
@Controller('v1/admin/devices')
export class AdminDevicesController {
  constructor(private readonly registry: DeviceRegistry) {}

  @Post()
  @HttpCode(201)
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({ description: 'JSON `[{sn, mac, model, firmware?}]`, or CSV with header `sn,mac,model,firmware`' })
  @ApiOperation({ summary: 'Register a factory batch; secrets are shown once, SNs already registered are reported, not overwritten' })
  @ApiCreatedResponse({ type: [RegisteredDeviceSchema] })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ['PAYLOAD_TOO_LARGE', 'a CSV over 16 MiB: use the import CLI'])
  async register(@Req() request: Request): Promise<RegisteredDeviceView[]> {
    const rows = request.is('text/csv')
      ? validateDeviceRows(parseDevicesCsv(await readText(request)), 'csv')
      : validateDeviceRows(request.body, 'json');
    const result = await this.registry.register(rows);
    return [
      ...result.issued.map(({ sn, deviceSecret, qr }) => ({ sn, status: 'registered' as const, deviceSecret, qr })),
      ...result.alreadyRegistered.map((sn) => ({ sn, status: 'already_registered' as const })),
      ...result.duplicatesInBatch.map((sn) => ({ sn, status: 'duplicate_in_batch' as const })),
    ];
  }

  @Post(':sn/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issue a new device secret (shown once); the old one stops working and open connections close' })
  @ApiOkResponse({ type: RotatedSecretSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ['NOT_FOUND', 'no such device'])
  async rotate(@Param('sn', SnParam) sn: string): Promise<{ sn: string; deviceSecret: string }> {
    return this.registry.rotateSecret(sn);
  }

  @Post(':sn/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke the device secret; an open connection is dropped. Rotating later re-activates it' })
  @ApiOkResponse({ type: RevokedSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ['NOT_FOUND', 'no such device'])
  async revoke(@Param('sn', SnParam) sn: string): Promise<{ sn: string; revokedAt: string }> {
    return this.registry.revoke(sn);
  }
}

async function readText(request: Request): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CSV_BYTES) throw new DomainError('PAYLOAD_TOO_LARGE', `CSV larger than ${MAX_CSV_BYTES} bytes; use the import CLI`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
