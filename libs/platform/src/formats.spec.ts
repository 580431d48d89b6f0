import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { MqttContext } from '@nestjs/microservices';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { readDeviceMessage } from './device-message.js';
import { checkFormat, FORMATS, IsE164, IsMac, IsSn, IsUuidFormat } from './formats.js';
import { SnParam, UuidParam } from './pipes.js';

class Sample {
  @IsSn() sn!: string;
  @IsE164() phone!: string;
  @IsMac() routerMac!: string;
  @IsUuidFormat() technicianId!: string;
}

const messages = (input: Record<string, unknown>) =>
  validateSync(plainToInstance(Sample, input)).flatMap((error) => Object.values(error.constraints ?? {}));

describe('formats', () => {
  it('accept what the contract accepts', () => {
    expect(
      messages({
        sn: 'PX1-0001_a',
        phone: '+8613800138000',
        routerMac: 'aa-bb-cc-dd-ee-ff',
        technicianId: '5f2c0a4e-8b1d-4c3e-9f00-1234567890ab',
      }),
    ).toEqual([]);
    expect(FORMATS.mac.pattern.test('AABBCCDDEEFF')).toBe(true);
    expect(FORMATS.mac.pattern.test('AA:BB-CC:DD:EE:FF')).toBe(false);
  });

  it('say what is wrong in one wording, naming the field, in DTOs and route parameters alike', () => {
    expect(messages({ sn: 'no/slash', phone: '13800138000', routerMac: 'nope', technicianId: '42' })).toEqual([
      'sn must be 4-64 characters of A-Z, a-z, 0-9, "-" or "_"',
      'phone must be an E.164 number such as +8613800138000',
      'routerMac must be six hex pairs, e.g. AA:BB:CC:DD:EE:FF',
      'technicianId must be a UUID',
    ]);
    expect(() => new SnParam().transform('a b', { type: 'param', data: 'sn' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: 'sn must be 4-64 characters of A-Z, a-z, 0-9, "-" or "_"' }),
    );
    expect(() => new UuidParam().transform('7', { type: 'param', data: 'userId' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: 'userId must be a UUID' }),
    );
    expect(new UuidParam().transform('5F2C0A4E-8B1D-4C3E-9F00-1234567890AB', { type: 'param', data: 'id' })).toBe(
      '5F2C0A4E-8B1D-4C3E-9F00-1234567890AB',
    );
    expect(() => checkFormat('e164', 'phone', 8613800138000)).toThrow('phone must be an E.164 number');
  });
});

describe('readDeviceMessage', () => {
  const context = (topic: string, payload?: Buffer | string) => new MqttContext([topic, { payload } as never]);

  it('reads SN, kind and the raw payload bytes of a device topic', () => {
    expect(readDeviceMessage(context('devices/PX1-0001/faults', Buffer.from('{"a":1}')))).toEqual({
      sn: 'PX1-0001',
      kind: 'faults',
      payload: Buffer.from('{"a":1}'),
    });
    expect(readDeviceMessage(context('devices/PX1-0001/reset', '{}'), 'reset')?.payload).toEqual(Buffer.from('{}'));
    expect(readDeviceMessage(context('devices/PX1-0001/reset'), 'reset')?.payload).toEqual(Buffer.alloc(0));
  });

  it('is undefined for another kind, a topic that is not a device topic, or something that is not a message context', () => {
    expect(readDeviceMessage(context('devices/PX1-0001/reset', '{}'), 'faults')).toBeUndefined();
    expect(readDeviceMessage(context('devices/bad+sn/faults', '{}'))).toBeUndefined();
    expect(readDeviceMessage(context('$SYS/broker/uptime', '1'))).toBeUndefined();
    expect(readDeviceMessage({ getTopic: () => 'devices/PX1-0001/faults' })).toBeUndefined();
  });
});
