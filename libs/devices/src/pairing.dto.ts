import 'reflect-metadata';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { IsE164, IsMac, IsSn } from '#libs/platform';

/** What the phone knows about the home network while pairing: personal data under `network_setup`. */
export class NetworkInfoDto {
  @ApiPropertyOptional({ example: 'Pixel 8' }) @IsOptional() @IsString() @Length(1, 64) phoneModel?: string;
  @ApiPropertyOptional({ example: 'Android 15' }) @IsOptional() @IsString() @Length(1, 32) osVersion?: string;
  @ApiPropertyOptional({ example: 'AA:BB:CC:DD:EE:FF' }) @IsOptional() @IsMac() routerMac?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() hiddenSsid?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) networkId?: string;
  @ApiPropertyOptional({ example: 'home-5G' }) @IsOptional() @IsString() @Length(1, 64) wifiName?: string;
}

/** Valid only while the other field is absent. */
function Without(other: string, message: string): PropertyDecorator {
  return ValidateBy({
    name: 'without',
    constraints: [other],
    validator: {
      validate: (_value, args) => (args?.object as Record<string, unknown>)[other] === undefined,
      defaultMessage: () => message,
    },
  });
}

/** POST /v1/pairings: exactly one of `qr` (the scanned label) or `sn` (typed). */
export class StartPairingDto {
  @ApiPropertyOptional({ example: 'APL1:PX1-0001:6SQ3MQWSD0DETMAF35JE', description: 'The scanned QR label (give this or sn)' })
  // Checked when given, and when sn is missing too: neither is as wrong as both.
  @ValidateIf((dto: StartPairingDto) => dto.qr !== undefined || dto.sn === undefined)
  @IsString({ message: 'give either qr (the scanned label) or sn' })
  @Length(1, 200)
  @Without('sn', 'give either qr (the scanned label) or sn, not both')
  qr?: string;

  @ApiPropertyOptional({ example: 'PX1-0001', description: 'The serial number, typed (give this or qr)' })
  @ValidateIf((dto: StartPairingDto) => dto.sn !== undefined)
  @IsSn()
  sn?: string;

  @ApiPropertyOptional({ type: NetworkInfoDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => NetworkInfoDto)
  network?: NetworkInfoDto;
}

export class AddMemberDto {
  @ApiProperty({ example: '+8613800138001', description: 'Phone of an existing account' })
  @IsString()
  @IsE164()
  phone!: string;
}
