import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsNotEmpty, IsOptional, IsString, Length, Matches, MaxLength, ValidateIf } from 'class-validator';
import { IsE164 } from '#libs/platform';

export class RequestOtpDto {
  @ApiProperty({ example: '+8613800138000' })
  @IsString()
  @IsE164()
  phone!: string;
}

export class LoginDto {
  @ApiProperty({ example: '+8613800138000' })
  @IsString()
  @IsE164()
  phone!: string;

  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be the 6 digits from the SMS' })
  code!: string;
}

export class RefreshDto {
  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  refreshToken!: string;
}

export class OAuthLoginDto {
  @ApiProperty({ description: 'Authorization code from the provider SDK' })
  @IsString()
  @Length(1, 512)
  code!: string;
}

export const GENDERS = ['female', 'male', 'other', 'undisclosed'] as const;

/** Every field optional; null clears it. */
export class UpdateProfileDto {
  @ApiPropertyOptional({ nullable: true, maxLength: 64 })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(64)
  nickname?: string | null;

  @ApiPropertyOptional({ nullable: true, maxLength: 64 })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(64)
  name?: string | null;

  @ApiPropertyOptional({ nullable: true, enum: GENDERS })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsIn(GENDERS)
  gender?: string | null;

  @ApiPropertyOptional({ nullable: true, example: '1990-05-17' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsISO8601({ strict: true })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'birthDate must be a date as YYYY-MM-DD' })
  birthDate?: string | null;

  @ApiPropertyOptional({ nullable: true, maxLength: 128 })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(128)
  location?: string | null;
}

export class CreateTechnicianDto {
  @ApiProperty({ example: '+8613900139000' })
  @IsString()
  @IsE164()
  phone!: string;

  @ApiProperty({ example: 'Li Lei', maxLength: 64 })
  @IsString()
  @Length(1, 64)
  name!: string;
}
