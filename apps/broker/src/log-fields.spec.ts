import { describe, expect, it } from '@jest/globals';
import { errorFields } from './log-fields.js';

describe('errorFields', () => {
  it('carries the machine code of an error beside it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(errorFields(refused)).toEqual({ err: refused, errorCode: 'ECONNREFUSED' });
    const sqlState = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    expect(errorFields(sqlState).errorCode).toBe('57P01');
  });

  it('leaves out anything that is not a short code', () => {
    expect(errorFields(new Error('plain'))).toEqual({ err: expect.any(Error) });
    expect(errorFields(Object.assign(new Error('x'), { code: 42 })).errorCode).toBeUndefined();
    expect(errorFields(Object.assign(new Error('x'), { code: '+8613800138000' })).errorCode).toBeUndefined();
    expect(errorFields('text')).toEqual({ err: 'text' });
  });
});
