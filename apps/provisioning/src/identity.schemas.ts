import { ApiProperty } from '@nestjs/swagger';
import { GENDERS, ROLES } from '#libs/identity';

// OpenAPI response schemas of sign-in and the profile (the answers are built by #libs/identity).

export class CodeSentSchema {
  @ApiProperty({ enum: ['sent'] }) status!: string;
}

export class TokenPairSchema {
  @ApiProperty({ description: 'HS256 JWT, 15 minutes' }) accessToken!: string;
  @ApiProperty({ description: 'Single-use; trade it at POST /v1/auth/refresh' }) refreshToken!: string;
}

export class SignedInUserSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles!: string[];
}

export class LoginSchema extends TokenPairSchema {
  @ApiProperty({ type: SignedInUserSchema }) user!: SignedInUserSchema;
}

export class ProfileSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, example: '+8613800138000' }) phone!: string | null;
  @ApiProperty({ enum: ROLES, isArray: true }) roles!: string[];
  @ApiProperty({ nullable: true }) nickname!: string | null;
  @ApiProperty({ nullable: true }) name!: string | null;
  @ApiProperty({ nullable: true, enum: GENDERS }) gender!: string | null;
  @ApiProperty({ nullable: true, format: 'date' }) birthDate!: string | null;
  @ApiProperty({ nullable: true }) location!: string | null;
}
