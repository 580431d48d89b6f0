import { Controller, Get, HttpCode, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ListFirmware, ListFirmwareQuery, toFirmwareView, UploadFirmware, UploadFirmwareQuery, type FirmwareView } from '#libs/firmware';
import { CurrentUser, JwtAuthGuard, Roles, RolesGuard, type AuthUser } from '#libs/identity';
import { ApiErrors, DomainError } from '#libs/platform';
import { FirmwareSchema } from './firmware.schemas.js';

@ApiTags('firmware')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, RolesGuard)
@Roles('admin')
@ApiErrors('UNAUTHORIZED', 'FORBIDDEN')
@Controller('v1/admin/firmware')
export class AdminFirmwareController {
  constructor(
    private readonly uploadFirmware: UploadFirmware,
    private readonly listFirmware: ListFirmware,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiConsumes('application/octet-stream')
  @ApiBody({ description: 'The image bytes', schema: { type: 'string', format: 'binary' } })
  @ApiOperation({
    summary: 'Upload a signed image; the Ed25519 signature is checked against the configured keys before anything is kept',
  })
  @ApiCreatedResponse({ type: FirmwareSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    ['FIRMWARE_SIGNATURE_INVALID', 'Unsigned, or no configured key verifies the signature'],
    ['CONFLICT', 'The model already has this version'],
    ['PAYLOAD_TOO_LARGE', 'Larger than firmware.maxImageBytes (64 MiB)'],
  )
  async upload(@Query() query: UploadFirmwareQuery, @Req() request: Request, @CurrentUser() admin: AuthUser): Promise<FirmwareView> {
    const image = await this.uploadFirmware.execute({ ...query, uploadedBy: admin.id }, (maxBytes) => readImage(request, maxBytes));
    return toFirmwareView(image);
  }

  @Get()
  @ApiOperation({ summary: 'Uploaded images, newest first, of every model or of one' })
  @ApiOkResponse({ type: [FirmwareSchema] })
  @ApiErrors('VALIDATION_FAILED')
  async list(@Query() query: ListFirmwareQuery): Promise<FirmwareView[]> {
    return (await this.listFirmware.execute(query.model)).map(toFirmwareView);
  }
}

/** The raw body, refused as soon as it is known to be too large: by its Content-Length, else once that many bytes have come. */
async function readImage(request: Request, maxBytes: number): Promise<Buffer> {
  if (!request.is('application/octet-stream')) {
    throw new DomainError('VALIDATION_FAILED', 'The body must be the image itself, sent as application/octet-stream');
  }
  const tooLarge = () => {
    // The rest of the body is not read: the connection closes after the answer instead of being reused.
    request.res?.setHeader('Connection', 'close');
    return new DomainError('PAYLOAD_TOO_LARGE', `The image is larger than ${maxBytes} bytes`);
  };
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
