import { ApiProperty } from '@nestjs/swagger';
import { PURPOSES } from '#libs/privacy';

// OpenAPI response schemas of the privacy routes (the answers are built by #libs/privacy).

export class ConsentSchema {
  @ApiProperty({ enum: PURPOSES }) purpose!: string;
  @ApiProperty() granted!: boolean;
  @ApiProperty({ nullable: true, description: 'null when the person never decided' }) policyVersion!: string | null;
  @ApiProperty({ nullable: true, format: 'date-time' }) at!: string | null;
}

export class RestrictionSchema {
  @ApiProperty() restricted!: boolean;
}

export class AccessLogEntrySchema {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'technician' }) actorRole!: string;
  @ApiProperty({ format: 'uuid' }) actorId!: string;
  @ApiProperty({ example: 'visit' }) what!: string;
  @ApiProperty({ enum: PURPOSES }) purpose!: string;
}

export class PolicyVersionSchema {
  @ApiProperty({ example: '2025-01' }) version!: string;
  @ApiProperty({ format: 'date-time' }) effectiveAt!: string;
  @ApiProperty() summary!: string;
}

export class PolicyOverviewSchema {
  @ApiProperty({ type: PolicyVersionSchema }) current!: PolicyVersionSchema;
  @ApiProperty({ type: [PolicyVersionSchema] }) upcoming!: PolicyVersionSchema[];
}

/** One key per section; every context that holds personal data adds its own (see the README's privacy section). */
export class ExportSchema {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The profile' }) profile!: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Consents and their history' }) consents!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) devices!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) pairings!: unknown[];
}
