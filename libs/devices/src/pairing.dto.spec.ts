import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { StartPairingDto } from './pairing.dto.js';

const problems = (body: Record<string, unknown>) =>
  validateSync(plainToInstance(StartPairingDto, body), { whitelist: true, forbidNonWhitelisted: true }).flatMap((error) =>
    Object.values(error.constraints ?? {}),
  );

const LABEL = 'APL1:PX1-0001:6SQ3MQWSD0DETMAF35JE';

describe('StartPairingDto: exactly one of qr or sn', () => {
  it('takes a label alone or an SN alone, with or without network info', () => {
    expect(problems({ qr: LABEL })).toEqual([]);
    expect(problems({ sn: 'PX1-0001', network: { wifiName: 'home-5G' } })).toEqual([]);
  });

  it('refuses both, and neither, saying which', () => {
    expect(problems({ qr: LABEL, sn: 'PX1-0001' })).toEqual(['give either qr (the scanned label) or sn, not both']);
    expect(problems({})).toContain('give either qr (the scanned label) or sn');
  });

  it('names a bad SN and a bad router MAC in the shared wording', () => {
    expect(problems({ sn: 'no/slashes' })).toEqual(['sn must be 4-64 characters of A-Z, a-z, 0-9, "-" or "_"']);
    const nested = validateSync(plainToInstance(StartPairingDto, { sn: 'PX1-0001', network: { routerMac: 'nope' } }));
    expect(nested[0].children?.[0].constraints).toEqual({ matches: 'routerMac must be six hex pairs, e.g. AA:BB:CC:DD:EE:FF' });
  });
});
