import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newPhone, signIn } from './factories/users.js';
import { sql, startTestBackend, type TestBackend } from './support/backend.js';
import { startFakeOAuthProvider, type FakeProvider } from './support/fake-oauth-provider.js';
import { call } from './support/http.js';

const ADMIN_PHONE = '+8613700000001';

describe('identity: sign-in, tokens, roles, validation', () => {
  let backend: TestBackend;
  let provider: FakeProvider;
  let api: string;

  beforeAll(async () => {
    provider = await startFakeOAuthProvider();
    const oauth = (prefix: string) => ({
      clientId: `${prefix}-client`,
      clientSecret: 'fake-secret',
      tokenUrl: `${provider.url}/token`,
      profileUrl: `${provider.url}/profile`,
    });
    backend = await startTestBackend({
      auth: { adminPhones: [ADMIN_PHONE] },
      oauth: { wechat: oauth('wechat'), qq: { clientId: '', clientSecret: '', tokenUrl: '', profileUrl: '' } },
    });
    api = backend.provisioningUrl;
  });

  afterAll(async () => {
    await backend?.stop();
    await provider?.close();
  });

  const countRows = async (table: string) => (await sql<{ n: number }>(backend, `SELECT count(*)::int AS n FROM ${table}`))[0].n;

  describe('health and docs', () => {
    it('answers /health 200 on all three apps with database and MQTT up, the services with their consumer of device messages', async () => {
      for (const [url, checks] of [
        [backend.provisioningUrl, { database: 'up', mqtt: 'up', consumer: 'up' }],
        [backend.faultsUrl, { database: 'up', mqtt: 'up', consumer: 'up' }],
        [backend.brokerHttpUrl, { database: 'up', mqtt: 'up' }],
      ] as const) {
        const health = await call('GET', `${url}/health`);
        expect(health.status).toBe(200);
        expect(health.body.checks).toEqual(checks);
      }
    });

    it('serves the OpenAPI page at /docs on every HTTP app', async () => {
      for (const url of [backend.provisioningUrl, backend.faultsUrl]) {
        const docs = await fetch(`${url}/docs`);
        expect(docs.status).toBe(200);
        expect(await docs.text()).toContain('swagger');
      }
      const spec = await call('GET', `${api}/docs-json`);
      expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/v1/auth/otp', '/v1/auth/login', '/v1/me']));
    });
  });

  describe('phone OTP login', () => {
    it('sends a 6-digit code through the outbox and signs the phone in, creating the account once', async () => {
      const phone = newPhone();
      const sent = await call('POST', `${api}/v1/auth/otp`, { body: { phone } });
      expect(sent.status).toBe(202);
      const code = await backend.lastCode(phone);
      expect(code).toMatch(/^\d{6}$/);

      const login = await call('POST', `${api}/v1/auth/login`, { body: { phone, code } });
      expect(login.status).toBe(200);
      expect(login.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        user: { id: expect.any(String), roles: ['user'] },
      });

      const again = await signIn(backend, phone);
      expect(again.userId).toBe(login.body.user.id);
    });

    it('accepts a code only once', async () => {
      const phone = newPhone();
      await call('POST', `${api}/v1/auth/otp`, { body: { phone } });
      const code = await backend.lastCode(phone);
      expect((await call('POST', `${api}/v1/auth/login`, { body: { phone, code } })).status).toBe(200);
      const replay = await call('POST', `${api}/v1/auth/login`, { body: { phone, code } });
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe('UNAUTHORIZED');
    });

    it('refuses an expired code', async () => {
      const phone = newPhone();
      await call('POST', `${api}/v1/auth/otp`, { body: { phone } });
      const code = await backend.lastCode(phone);
      await sql(backend, `UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE consumed_at IS NULL`);
      const login = await call('POST', `${api}/v1/auth/login`, { body: { phone, code } });
      expect(login.status).toBe(401);
      expect(login.body.message).toMatch(/expired/);
    });

    it('kills the code after five wrong guesses: 429, and the right code no longer works', async () => {
      const phone = newPhone();
      await call('POST', `${api}/v1/auth/otp`, { body: { phone } });
      const code = await backend.lastCode(phone);
      const wrong = code === '000000' ? '111111' : '000000';
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        statuses.push((await call('POST', `${api}/v1/auth/login`, { body: { phone, code: wrong } })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
      const right = await call('POST', `${api}/v1/auth/login`, { body: { phone, code } });
      expect(right.status).toBe(429);
      expect(right.body).toEqual({ statusCode: 429, error: 'TOO_MANY_REQUESTS', message: expect.any(String) });
    });

    it('limits codes per phone: the sixth request within the hour is 429', async () => {
      const phone = newPhone();
      const statuses: number[] = [];
      for (let request = 0; request < 6; request += 1) {
        statuses.push((await call('POST', `${api}/v1/auth/otp`, { body: { phone } })).status);
      }
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    });

    it('stores codes, phones and addresses only as hashes', async () => {
      const phone = newPhone();
      await call('POST', `${api}/v1/auth/otp`, { body: { phone } });
      const code = await backend.lastCode(phone);
      const dump = JSON.stringify(await sql(backend, 'SELECT * FROM otp_challenges'));
      expect(dump).not.toContain(phone);
      expect(dump).not.toContain(`"${code}"`);
    });
  });

  describe('bad input: 400 with the contract body, nothing stored', () => {
    const cases: Array<[string, string, unknown]> = [
      ['a phone that is not E.164', '/v1/auth/otp', { phone: '13800138000' }],
      ['a phone of the wrong type', '/v1/auth/otp', { phone: 8613800138000 }],
      ['an unknown field', '/v1/auth/otp', { phone: '+8613800138000', admin: true }],
      ['an overlong phone', '/v1/auth/otp', { phone: `+86${'1'.repeat(300)}` }],
      ['malformed JSON', '/v1/auth/otp', '{"phone": "+86138'],
      ['a non-numeric code', '/v1/auth/login', { phone: '+8613800138000', code: 'abcdef' }],
      ['a missing code', '/v1/auth/login', { phone: '+8613800138000' }],
    ];
    it.each(cases)('%s', async (_name, path, body) => {
      const challengesBefore = await countRows('otp_challenges');
      const usersBefore = await countRows('users');
      const response = await call('POST', `${api}${path}`, { body });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, error: 'VALIDATION_FAILED', message: expect.any(String) });
      expect(await countRows('otp_challenges')).toBe(challengesBefore);
      expect(await countRows('users')).toBe(usersBefore);
    });

    it('names the unknown field in the message', async () => {
      const response = await call('POST', `${api}/v1/auth/otp`, { body: { phone: '+8613800138000', role: 'admin' } });
      expect(response.body.message).toContain('unknown field role');
    });
  });

  describe('refresh tokens', () => {
    it('rotates: the new pair works, the old refresh token does not', async () => {
      const user = await signIn(backend);
      const rotated = await call('POST', `${api}/v1/auth/refresh`, { body: { refreshToken: user.refreshToken } });
      expect(rotated.status).toBe(200);
      expect(rotated.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
      expect(rotated.body.refreshToken).not.toBe(user.refreshToken);
      expect((await call('GET', `${api}/v1/me`, { token: rotated.body.accessToken })).status).toBe(200);
      const next = await call('POST', `${api}/v1/auth/refresh`, { body: { refreshToken: rotated.body.refreshToken } });
      expect(next.status).toBe(200);
    });

    it('revokes the whole login when a rotated refresh token is used again', async () => {
      const user = await signIn(backend);
      const other = await signIn(backend, user.phone); // a second login of the same person, e.g. a tablet
      const rotated = await call('POST', `${api}/v1/auth/refresh`, { body: { refreshToken: user.refreshToken } });
      expect(rotated.status).toBe(200);

      const reuse = await call('POST', `${api}/v1/auth/refresh`, { body: { refreshToken: user.refreshToken } });
      expect(reuse.status).toBe(401);
      expect(reuse.body.error).toBe('UNAUTHORIZED');

      expect((await call('POST', `${api}/v1/auth/refresh`, { body: { refreshToken: rotated.body.refreshToken } })).status).toBe(401);
      expect((await call('GET', `${api}/v1/me`, { token: rotated.body.accessToken })).status).toBe(401);
      expect((await call('GET', `${api}/v1/me`, { token: user.accessToken })).status).toBe(401);
      // The other login is untouched.
      expect((await call('GET', `${api}/v1/me`, { token: other.accessToken })).status).toBe(200);
    });

    it('refuses a made-up refresh token', async () => {
      for (const refreshToken of ['nonsense', '00000000-0000-0000-0000-000000000000.abc']) {
        const response = await call('POST', `${api}/v1/auth/refresh`, { body: { refreshToken } });
        expect(response.status).toBe(401);
      }
    });
  });

  describe('access tokens', () => {
    const secret = 'dev-only-jwt-secret-change-me-0123456789';
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const sign = (header: unknown, payload: unknown) => {
      const body = `${b64(header)}.${b64(payload)}`;
      return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
    };

    it('refuses a missing, tampered, expired or unsigned token with 401 on every app', async () => {
      const user = await signIn(backend);
      const [header, payload, signature] = user.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const tampered = `${header}.${b64({ ...claims, roles: ['user', 'admin'] })}.${signature}`;
      const expired = sign({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: 1000, exp: 2000 });
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
      for (const token of [undefined, 'garbage', tampered, expired, unsigned]) {
        const response = await call('GET', `${api}/v1/me`, { token });
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ statusCode: 401, error: 'UNAUTHORIZED', message: expect.any(String) });
      }
      const onFaults = await call('POST', `${backend.faultsUrl}/v1/admin/technicians`, {
        token: tampered,
        body: { phone: newPhone(), name: 'X' },
      });
      expect(onFaults.status).toBe(401);
    });
  });

  describe('roles', () => {
    it('gives ADMIN_PHONES the admin role at login', async () => {
      const admin = await signIn(backend, ADMIN_PHONE);
      expect(admin.roles).toEqual(['user', 'admin']);
    });

    it('lets an admin, and only an admin, make a technician, who then signs in with that role', async () => {
      const admin = await signIn(backend, ADMIN_PHONE);
      const user = await signIn(backend);
      const phone = newPhone();
      const asUser = await call('POST', `${backend.faultsUrl}/v1/admin/technicians`, {
        token: user.accessToken,
        body: { phone, name: 'Li Lei' },
      });
      expect(asUser.status).toBe(403);
      expect(asUser.body.error).toBe('FORBIDDEN');

      const created = await call('POST', `${backend.faultsUrl}/v1/admin/technicians`, {
        token: admin.accessToken,
        body: { phone, name: 'Li Lei' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(String), phone, name: 'Li Lei' });

      const technician = await signIn(backend, phone);
      expect(technician.userId).toBe(created.body.id);
      expect(technician.roles).toEqual(['user', 'technician']);
    });
  });

  describe('third-party login (OAuth2 code exchange)', () => {
    it('signs in with a wechat code and maps the provider account to one of ours', async () => {
      provider.grant('code-1', { openid: 'wx-openid-1', nickname: 'Wei' });
      const first = await call('POST', `${api}/v1/auth/oauth/wechat`, { body: { code: 'code-1' } });
      expect(first.status).toBe(200);
      expect(first.body.user.roles).toEqual(['user']);
      const profile = await call('GET', `${api}/v1/me`, { token: first.body.accessToken });
      expect(profile.body).toMatchObject({ id: first.body.user.id, phone: null, nickname: 'Wei' });

      provider.grant('code-2', { openid: 'wx-openid-1', nickname: 'Wei' });
      const second = await call('POST', `${api}/v1/auth/oauth/wechat`, { body: { code: 'code-2' } });
      expect(second.status).toBe(200);
      expect(second.body.user.id).toBe(first.body.user.id);
    });

    it('refuses a code the provider rejects, an unknown provider and an unconfigured one', async () => {
      const rejected = await call('POST', `${api}/v1/auth/oauth/wechat`, { body: { code: 'never-issued' } });
      expect(rejected.status).toBe(401);
      const unknown = await call('POST', `${api}/v1/auth/oauth/facebook`, { body: { code: 'x' } });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('NOT_FOUND');
      const unconfigured = await call('POST', `${api}/v1/auth/oauth/qq`, { body: { code: 'x' } });
      expect(unconfigured.status).toBe(503);
    });
  });

  describe('profile', () => {
    it('reads and corrects the profile; bad input changes nothing', async () => {
      const user = await signIn(backend);
      const empty = await call('GET', `${api}/v1/me`, { token: user.accessToken });
      expect(empty.body).toEqual({
        id: user.userId,
        phone: user.phone,
        roles: ['user'],
        nickname: null,
        name: null,
        gender: null,
        birthDate: null,
        location: null,
      });
      const changes = { nickname: 'Mei', name: 'Han Meimei', gender: 'female', birthDate: '1990-05-17', location: 'Hangzhou' };
      const patched = await call('PATCH', `${api}/v1/me`, { token: user.accessToken, body: changes });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject(changes);

      for (const bad of [
        { nickname: 'x'.repeat(65) },
        { birthDate: '17/05/1990' },
        { gender: 'robot' },
        { roles: ['admin'] },
        { name: 42 },
      ]) {
        const refused = await call('PATCH', `${api}/v1/me`, { token: user.accessToken, body: bad });
        expect(refused.status).toBe(400);
        expect(refused.body.error).toBe('VALIDATION_FAILED');
      }
      const after = await call('GET', `${api}/v1/me`, { token: user.accessToken });
      expect(after.body).toMatchObject({ ...changes, roles: ['user'] });

      const cleared = await call('PATCH', `${api}/v1/me`, { token: user.accessToken, body: { location: null } });
      expect(cleared.body.location).toBeNull();
    });
  });
});

describe('identity: per-address limit', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await startTestBackend({ auth: { otp: { perIpPerHour: 3 } } });
  });
  afterAll(async () => backend?.stop());

  it('answers 429 once one address has asked for too many codes, whatever the phone', async () => {
    const statuses: number[] = [];
    for (let request = 0; request < 4; request += 1) {
      statuses.push((await call('POST', `${backend.provisioningUrl}/v1/auth/otp`, { body: { phone: newPhone() } })).status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
  });
});
