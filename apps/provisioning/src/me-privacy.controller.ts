import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, JwtAuthGuard, type AuthUser } from '#libs/identity';
import {
  AccessLogService,
  ConsentService,
  EraseAccount,
  ExportService,
  SetConsentDto,
  SetRestrictionDto,
  type AccessLogEntry,
  type ConsentView,
} from '#libs/privacy';
import { ApiErrors } from '#libs/platform';
import { AccessLogEntrySchema, ConsentSchema, ExportSchema, RestrictionSchema } from './privacy.schemas.js';

/** The caller's privacy rights: consents, restriction, export, erasure, access log. */
@ApiTags('me')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1/me')
export class MePrivacyController {
  constructor(
    private readonly consents: ConsentService,
    private readonly exports: ExportService,
    private readonly accessLog: AccessLogService,
    private readonly eraseAccount: EraseAccount,
  ) {}

  @Get('consents')
  @ApiOperation({ summary: 'My consent per purpose' })
  @ApiOkResponse({ type: [ConsentSchema] })
  @ApiErrors('UNAUTHORIZED')
  list(@CurrentUser() user: AuthUser): Promise<ConsentView[]> {
    return this.consents.list(user.id);
  }

  @Put('consents/:purpose')
  @ApiOperation({ summary: 'Grant or withdraw a purpose; a withdrawal erases what was held only for it before answering' })
  @ApiOkResponse({ type: ConsentSchema })
  @ApiErrors(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    ['NOT_FOUND', 'no such purpose'],
    ['CONFLICT', 'service ends only by deleting the account'],
  )
  set(@CurrentUser() user: AuthUser, @Param('purpose') purpose: string, @Body() body: SetConsentDto): Promise<ConsentView> {
    return this.consents.set(user.id, purpose, body.granted);
  }

  @Post('restriction')
  @HttpCode(200)
  @ApiOperation({ summary: 'Restrict processing: while true, nothing beyond the service purpose is processed' })
  @ApiOkResponse({ type: RestrictionSchema })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED')
  restrict(@CurrentUser() user: AuthUser, @Body() body: SetRestrictionDto): Promise<{ restricted: boolean }> {
    return this.consents.restrict(user.id, body.restricted);
  }

  @Get('export')
  @ApiOperation({ summary: 'Everything held about me, as JSON (streamed: readings are written as they are read)' })
  @ApiOkResponse({ type: ExportSchema })
  @ApiErrors('UNAUTHORIZED')
  async export(@CurrentUser() user: AuthUser, @Res() response: Response): Promise<void> {
    const chunks = this.exports.stream(user.id);
    // The first chunk before any header: a failure there is still an ordinary error answer.
    const first = await chunks.next();
    response.status(200).type('application/json');
    try {
      for (let next = first; !next.done; next = await chunks.next()) {
        if (!response.write(next.value)) await drainedOrClosed(response);
        if (response.destroyed) break;
      }
      response.end();
    } catch (error) {
      // Headers are gone: cut the connection, so the client sees a broken document, not a short one.
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    } finally {
      await chunks.return(undefined);
    }
  }

  @Get('access-log')
  @ApiOperation({ summary: 'Every read of my data by staff' })
  @ApiOkResponse({ type: [AccessLogEntrySchema] })
  @ApiErrors('UNAUTHORIZED')
  accessLogOf(@CurrentUser() user: AuthUser): Promise<AccessLogEntry[]> {
    return this.accessLog.list(user.id);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Erase my account: personal data deleted or de-identified everywhere, logins ended' })
  @ApiNoContentResponse({ description: 'Erased' })
  @ApiErrors('UNAUTHORIZED')
  async erase(@CurrentUser() user: AuthUser): Promise<void> {
    await this.eraseAccount.execute(user.id);
  }
}

/** How long a client may leave the export unread: its transaction holds a database connection meanwhile. */
const STALLED_READER_MS = 30_000;

function drainedOrClosed(response: Response): Promise<void> {
  return new Promise((resolve) => {
    // Gone already (the client hung up while the chunk was being read): 'close' will not come again.
    if (response.destroyed || response.closed) return resolve();
    const stalled = setTimeout(() => response.destroy(new Error('export not read for 30 s')), STALLED_READER_MS);
    const done = () => {
      clearTimeout(stalled);
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
