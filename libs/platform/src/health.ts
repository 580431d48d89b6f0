import { Controller, Get, Inject, Optional, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

/** One dependency an app needs to be healthy (its database, its MQTT link). */
export interface HealthCheck {
  name: string;
  isUp(): Promise<boolean>;
}

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
/** The service's consumer of device messages (the event bus), provided by the service shell beside the app's own checks. */
export const CONSUMER_HEALTH_CHECKS = Symbol('CONSUMER_HEALTH_CHECKS');

/** The answer of /health, up or not. */
export class HealthSchema {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['up', 'down'] },
    example: { database: 'up', mqtt: 'up' },
  })
  checks!: Record<string, 'up' | 'down'>;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly checks: HealthCheck[];

  constructor(@Inject(HEALTH_CHECKS) checks: HealthCheck[], @Optional() @Inject(CONSUMER_HEALTH_CHECKS) consumer?: HealthCheck[]) {
    this.checks = [...checks, ...(consumer ?? [])];
  }

  @Get()
  @ApiOperation({ summary: '200 when the database, MQTT and (when configured) event bus links are up, 503 otherwise' })
  @ApiOkResponse({ type: HealthSchema })
  @ApiServiceUnavailableResponse({ type: HealthSchema, description: 'A link is down (checks says which)' })
  async health(@Res() response: Response): Promise<void> {
    const results = await Promise.all(
      this.checks.map(async (check) => [check.name, await withTimeout(check.isUp(), 2000).catch(() => false)] as const),
    );
    const up = results.every(([, ok]) => ok);
    response.status(up ? 200 : 503).json({
      status: up ? 'ok' : 'unavailable',
      checks: Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'up' : 'down'])),
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}
