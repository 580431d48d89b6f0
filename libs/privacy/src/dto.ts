import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsISO8601, IsString, Length, Matches } from 'class-validator';

export class SetConsentDto {
  @ApiProperty()
  @IsBoolean()
  granted!: boolean;
}

export class SetRestrictionDto {
  @ApiProperty({ description: 'While true, nothing beyond the service purpose is processed' })
  @IsBoolean()
  restricted!: boolean;
}

export class PublishPolicyDto {
  @ApiProperty({ example: '2026-03' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, { message: 'version must be 1-32 letters, digits, dots, dashes or underscores' })
  version!: string;

  @ApiProperty({ example: '2026-03-01T00:00:00Z', description: 'At least 30 days from now' })
  @IsISO8601({ strict: true })
  effectiveAt!: string;

  @ApiProperty({ example: 'What changes and why' })
  @IsString()
  @Length(1, 4000)
  summary!: string;
}
