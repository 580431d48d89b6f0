import 'reflect-metadata';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length, Matches, ValidateIf, ValidateNested } from 'class-validator';
import { SN_PATTERN } from '#libs/mqtt-contract';

const MAC = /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/;

/** What the phone knows about the home network while pairing: personal data under `network_setup`. */
export class NetworkInfoDto {
  @ApiPropertyOptional({ example: 'Pixel 8' }) @IsOptional() @IsString() @Length(1, 64) phoneModel?: string;
  @ApiPropertyOptional({ example: 'Android 15' }) @IsOptional() @IsString() @Length(1, 32) osVersion?: string;
  @ApiPropertyOptional({ example: 'AA:BB:CC:DD:EE:FF' })
  @IsOptional()
  @Matches(MAC, { message: 'routerMac must be six hex pairs, e.g. AA:BB:CC:DD:EE:FF' })
  routerMac?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() hiddenSsid?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) networkId?: string;
  @ApiPropertyOptional({ example: 'home-5G' }) @IsOptional() @IsString() @Length(1, 64) wifiName?: string;
}

/** POST /v1/pairings: exactly one of `qr` (the scanned label) or `sn` (typed). */
export class StartPairingDto {
  @ApiPropertyOptional({ example: 'APL1:PX1-0001:6SQ3MQWSD0DETMAF35JE', description: 'The scanned QR label' })
  @ValidateIf((dto: StartPairingDto) => dto.qr !== undefined || dto.sn === undefined)
  @IsString({ message: 'give either qr (the scanned label) or sn' })
  @Length(1, 200)
  qr?: string;

  @ApiPropertyOptional({ example: 'PX1-0001', description: 'The serial number, typed' })
  @ValidateIf((dto: StartPairingDto) => dto.sn !== undefined)
  @Matches(SN_PATTERN, { message: 'sn must be 4-64 characters of A-Z, a-z, 0-9, "-" or "_"' })
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
  @Matches(/^\+[1-9]\d{7,14}$/, { message: 'phone must be an E.164 number such as +8613800138000' })
  phone!: string;
}
