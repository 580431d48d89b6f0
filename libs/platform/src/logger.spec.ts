import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { createLogger } from './logger.js';
import { redactText } from './redact.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

describe('log redaction', () => {
  it('keeps phones, MACs, SNs in device topics and tokens out of free text', () => {
    const text = redactText(
      'login +8613800138000 from AA:BB:CC:DD:EE:FF on devices/SN-0001/faults with Bearer eyJhbGciOi.eyJzdWIi.sig and aa-bb-cc-dd-ee-ff, GET /x?phone=%2B8613900139000',
    );
    expect(text).not.toMatch(/8613800138000|AA:BB|SN-0001|eyJ|aa-bb|8613900139000/);
    expect(text).toContain('devices/[redacted]/faults');
  });

  it('keeps credentials out of query strings, such as a firmware download token', () => {
    const text = redactText('GET /v1/firmware/jobs/6f0c/image?token=99af0516d684&x=1 and /y?secret=abc#top');
    expect(text).toBe('GET /v1/firmware/jobs/6f0c/image?token=[redacted]&x=1 and /y?secret=[redacted]#top');
  });

  it('censors sensitive keys at any depth and scrubs messages, child bindings and errors', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', 'spec', stream);
    logger
      .child({ sn: 'SN-0001' })
      .info(
        { phone: '+8613800138000', device: { mac: '00:11:22:33:44:55', deviceSecret: 's3cret' }, note: 'call +8613900139000' },
        'paired devices/SN-0002/status for +8613700137000',
      );
    logger.error({ err: new Error('refused +8613600136000') }, 'failed');
    const output = lines.join('');
    for (const secret of ['8613800138000', '00:11:22', 's3cret', '8613900139000', 'SN-0001', 'SN-0002', '8613700137000', '8613600136000']) {
      expect(output).not.toContain(secret);
    }
    const first = JSON.parse(lines[0]);
    expect(first).toMatchObject({ level: 'info', phone: '[redacted]', device: { mac: '[redacted]', deviceSecret: '[redacted]' } });
  });

  it("keeps PostgreSQL's SQLSTATE, constraint and table in the log, and the row's values out", async () => {
    // A real error from the run's PostgreSQL (jest's global setup starts one).
    const client = new pg.Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
    await client.connect();
    let failure: unknown;
    try {
      await client.query('CREATE TEMP TABLE people (phone text CONSTRAINT people_phone_key UNIQUE)');
      await client.query("INSERT INTO people VALUES ('+8613800138000')");
      await client.query('INSERT INTO people VALUES ($1)', ['+8613800138000']).catch((error: unknown) => (failure = error));
    } finally {
      await client.end();
    }
    expect((failure as { detail?: string }).detail).toContain('8613800138000');
    const { lines, stream } = capture();
    const logger = createLogger('info', 'spec', stream);
    logger.error({ err: failure }, 'insert failed');
    logger.error({ err: new QueryFailedError('INSERT INTO people VALUES ($1)', ['+8613800138000'], failure as Error) }, 'query failed');
    logger.warn(
      { err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5'), { code: 'ECONNREFUSED', syscall: 'connect' }) },
      'down',
    );
    const [direct, wrapped, system] = lines.map((line) => JSON.parse(line));
    expect(direct.err).toMatchObject({ code: '23505', constraint: 'people_phone_key', table: 'people', severity: 'ERROR' });
    expect(wrapped.err).toMatchObject({
      type: 'QueryFailedError',
      code: '23505',
      cause: { code: '23505', constraint: 'people_phone_key' },
    });
    expect(system.err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    expect(lines.join('')).not.toContain('8613800138000');
  });
});
