import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { signIn, type SignedIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900001301';

/** Appliance models over HTTP: admins define each model's data points, anyone signed in reads them. */
describe('appliance models', () => {
  let backend: TestBackend;
  let admin: SignedIn;
  let user: SignedIn;
  let url: string;

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    url = backend.provisioningUrl;
    admin = await signIn(backend, ADMIN_PHONE);
    user = await signIn(backend);
  });

  afterAll(async () => {
    await backend?.stop();
  });

  const define = (model: string, body: unknown, token = admin.accessToken) =>
    call('PUT', `${url}/v1/admin/models/${encodeURIComponent(model)}`, { token, body });
  const read = (model: string, token = user.accessToken) => call('GET', `${url}/v1/models/${encodeURIComponent(model)}`, { token });

  const kettle = {
    name: 'Kettle K1',
    points: [
      { id: 'power', type: 'boolean', writable: true, history: false },
      { id: 'target_temp', type: 'integer', writable: true, history: false, unit: '°C', min: 40, max: 100 },
      { id: 'program', type: 'enum', writable: true, history: false, values: ['tea', 'coffee', 'baby'] },
      { id: 'display', type: 'string', writable: true, history: false, maxLength: 16 },
      { id: 'water_temp', type: 'number', writable: false, history: true, unit: '°C' },
    ],
  };

  it('an admin defines a model; anyone signed in reads the definition', async () => {
    const defined = await define('K1', kettle);
    expect(defined).toEqual({ status: 200, body: { model: 'K1', ...kettle } });
    expect(await read('K1')).toEqual({ status: 200, body: { model: 'K1', ...kettle } });
  });

  it('a new definition replaces the previous one whole', async () => {
    await define('K2', kettle);
    const smaller = { name: 'Kettle K2 (rev. B)', points: [{ id: 'power', type: 'boolean', writable: true, history: false }] };
    expect((await define('K2', smaller)).status).toBe(200);
    expect((await read('K2')).body).toEqual({ model: 'K2', ...smaller });
  });

  it('serves the two demo models of the README', async () => {
    const purifier = await read('PX1');
    expect(purifier.status).toBe(200);
    expect(purifier.body.points.map((point: { id: string }) => point.id)).toEqual(['power', 'mode', 'filter_life', 'tds', 'water_drawn']);
    const heater = await read('HT1');
    expect(heater.body.points).toContainEqual({
      id: 'target_temp',
      type: 'number',
      writable: true,
      history: false,
      unit: '°C',
      min: 30,
      max: 75,
    });
  });

  it('refuses a bad definition with errors naming the point, and stores nothing', async () => {
    const bad = {
      name: 'Broken',
      points: [
        { id: 'power', type: 'boolean', writable: true, history: false },
        { id: 'mode', type: 'enum', writable: true, history: false },
        { id: 'temperature', type: 'number', writable: true, history: false, min: 80, max: 30 },
        { id: 'power', type: 'string', writable: true, history: false, maxLength: 4, colour: 'red' },
        { id: 'Speed', type: 'integer', writable: true, history: false },
      ],
    };
    const refused = await define('BROKEN', bad);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      statusCode: 400,
      error: 'VALIDATION_FAILED',
      message: [
        'points[1] (mode): an enum point needs values: 1-64 strings',
        'points[2] (temperature): min must not exceed max',
        'points[3] (power): unknown field colour',
        'points[3] (power): id is used by an earlier point',
        'points[4]: id must match ^[a-z][a-z0-9_]{0,39}$',
      ].join('; '),
    });
    expect((await read('BROKEN')).status).toBe(404);
    expect((await define('K1', { ...kettle, owner: 'me' })).body.message).toBe('unknown field owner');
    expect((await define('K1', '{"name":')).status).toBe(400);
    expect((await define('K1', [])).body.message).toBe('the body must be a JSON object');
    expect((await read('K1')).body).toEqual({ model: 'K1', ...kettle });
  });

  it('only admins define; reading needs a sign-in; an unknown model is 404', async () => {
    expect(await define('K3', kettle, user.accessToken)).toMatchObject({ status: 403, body: { error: 'FORBIDDEN' } });
    expect(await define('K3', kettle, 'not-a-token')).toMatchObject({ status: 401, body: { error: 'UNAUTHORIZED' } });
    expect((await read('K3')).status).toBe(404);
    expect(await call('GET', `${url}/v1/models/PX1`)).toMatchObject({ status: 401, body: { error: 'UNAUTHORIZED' } });
    expect(await read('NOPE')).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'NOT_FOUND', message: 'No definition for this model' },
    });
    expect((await call('GET', `${url}/v1/models/${'M'.repeat(65)}`, { token: user.accessToken })).body).toMatchObject({
      error: 'VALIDATION_FAILED',
      message: 'model must be 1-64 printable ASCII characters, as in the device registry',
    });
  });
});
