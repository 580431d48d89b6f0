import { open } from 'node:fs/promises';
import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import type { Response } from 'express';
import { OpenDownload } from '#libs/firmware';
import { ApiErrors, DomainError } from '#libs/platform';
import { parseByteRange } from './byte-range.js';

export class DownloadQuery {
  @ApiProperty({ description: "The job's download token, as in its URL" }) @IsString() @Length(1, 128) token!: string;
}

/**
 * The image of a job, for the device that has it: the URL of its retained job
 * plus its own credentials (HTTP Basic, SN and device secret, as on MQTT).
 * Range requests let an interrupted download resume.
 */
@ApiTags('firmware')
@Controller('v1/firmware/jobs')
export class FirmwareDownloadController {
  constructor(private readonly openDownload: OpenDownload) {}

  @Get(':jobId/image')
  @ApiOperation({ summary: "A job's image, for its own device only, while the job runs; supports Range (206) to resume" })
  @ApiHeader({ name: 'authorization', description: 'Basic base64(SN:deviceSecret)', required: true })
  @ApiHeader({ name: 'range', description: 'bytes=<start>-[<end>] to resume', required: false })
  @ApiProduces('application/octet-stream')
  @ApiResponse({ status: 200, description: 'The whole image', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 206, description: 'The range asked for (Content-Range says which)', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(
    'VALIDATION_FAILED',
    ['UNAUTHORIZED', "Not this device's credentials"],
    ['NOT_FOUND', "Not this device's job, or a wrong token"],
    ['FIRMWARE_JOB_ENDED', 'The job ended (succeeded, failed, timed out or withdrawn)'],
    ['RANGE_NOT_SATISFIABLE', 'The range starts beyond the image'],
  )
  async download(
    @Param('jobId') jobId: string,
    @Query() query: DownloadQuery,
    @Headers('authorization') authorization: string | undefined,
    @Headers('range') range: string | undefined,
    @Headers('if-range') ifRange: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    const device = basicCredentials(authorization);
    if (!device) {
      response.setHeader('WWW-Authenticate', 'Basic realm="firmware", charset="UTF-8"');
      throw new DomainError('UNAUTHORIZED', "Downloads need the device's own credentials (HTTP Basic: SN and device secret)");
    }
    const image = await this.openDownload.execute({ jobId, token: query.token, sn: device.sn, secret: device.secret });
    const etag = `"${image.sha256}"`;
    const wanted = ifRange === undefined || ifRange === etag ? parseByteRange(range, image.size) : null;
    if (wanted === 'unsatisfiable') {
      response.setHeader('Content-Range', `bytes */${image.size}`);
      throw new DomainError('RANGE_NOT_SATISFIABLE', `The image has ${image.size} bytes`);
    }
    const file = await open(image.path, 'r');
    const { start, end } = wanted ?? { start: 0, end: image.size - 1 };
    response.status(wanted ? 206 : 200);
    response.setHeader('Content-Type', 'application/octet-stream');
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('ETag', etag);
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('Content-Length', String(end - start + 1));
    if (wanted) response.setHeader('Content-Range', `bytes ${start}-${end}/${image.size}`);
    const stream = file.createReadStream({ start, end });
    await new Promise<void>((resolve) => {
      stream.once('error', () => {
        response.destroy();
        resolve();
      });
      response.once('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(response);
    });
  }
}

function basicCredentials(header: string | undefined): { sn: string; secret: string } | null {
  const match = header ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim()) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  return { sn: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
