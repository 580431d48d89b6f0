import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { grantAll, setConsent, setRestriction } from './factories/consents.js';
import { newPhone, signIn, type SignedIn } from './factories/users.js';

const DAY = 24 * 3600 * 1000;

/**
 * Runs a compiled CLI without blocking this process: the backend under test runs here too, and a
 * blocked event loop leaves its keep-alive sockets to expire the moment the next request reuses one.
 */
function runCli(cli: string, databaseUrl: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli],
      { env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: databaseUrl }, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('privacy rights over HTTP (provisioning)', () => {
  let backend: TestBackend;
  let db: pg.Client;
  const adminPhone = newPhone();
  let admin: SignedIn;
  let url: string;

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [adminPhone] } });
    url = backend.provisioningUrl;
    db = new pg.Client({ connectionString: backend.databaseUrl });
    await db.connect();
    admin = await signIn(backend, adminPhone);
  });

  afterAll(async () => {
    await db?.end();
    await backend?.stop();
  });

  it('records acceptance of service under the version in force at first login, and nothing else', async () => {
    const user = await signIn(backend);
    const consents = await call('GET', `${url}/v1/me/consents`, { token: user.accessToken });
    expect(consents.status).toBe(200);
    const byPurpose = Object.fromEntries((consents.body as Array<{ purpose: string }>).map((entry) => [entry.purpose, entry]));
    expect(byPurpose.service).toMatchObject({ granted: true, policyVersion: '2020-01' });
    expect(byPurpose.marketing).toEqual({ purpose: 'marketing', granted: false, policyVersion: null, at: null });
    expect(Object.keys(byPurpose).sort()).toEqual([
      'fault_diagnostics',
      'marketing',
      'network_setup',
      'product_improvement',
      'repair_contact',
      'service',
    ]);
    // A second login records nothing new.
    await signIn(backend, user.phone);
    const events = await db.query('SELECT purpose, channel FROM consent_events WHERE subject_id = $1', [user.userId]);
    expect(events.rows).toEqual([{ purpose: 'service', channel: 'login' }]);
  });

  it('shows the policy in force, refuses a notice under 30 days and announces a longer one', async () => {
    const policy = await call('GET', `${url}/v1/privacy/policy`);
    expect(policy.status).toBe(200);
    expect(policy.body.current).toMatchObject({ version: '2020-01', effectiveAt: '2020-01-01T00:00:00.000Z' });

    const user = await signIn(backend);
    const soon = new Date(Date.now() + 29 * DAY).toISOString();
    const later = new Date(Date.now() + 31 * DAY).toISOString();
    expect(
      (
        await call('POST', `${url}/v1/admin/policies`, {
          token: user.accessToken,
          body: { version: '2031-01', effectiveAt: later, summary: 'x' },
        })
      ).status,
    ).toBe(403);
    const tooSoon = await call('POST', `${url}/v1/admin/policies`, {
      token: admin.accessToken,
      body: { version: '2031-01', effectiveAt: soon, summary: 'x' },
    });
    expect(tooSoon.status).toBe(400);
    expect(tooSoon.body.error).toBe('POLICY_NOTICE_TOO_SHORT');
    const published = await call('POST', `${url}/v1/admin/policies`, {
      token: admin.accessToken,
      body: { version: '2031-01', effectiveAt: later, summary: 'Repairs by partner workshops' },
    });
    expect(published.status).toBe(201);
    const again = await call('POST', `${url}/v1/admin/policies`, {
      token: admin.accessToken,
      body: { version: '2031-01', effectiveAt: later, summary: 'x' },
    });
    expect(again.status).toBe(409);
    const after = await call('GET', `${url}/v1/privacy/policy`);
    expect(after.body.current.version).toBe('2020-01');
    expect(after.body.upcoming.map((entry: { version: string }) => entry.version)).toEqual(['2031-01']);
    const bad = await call('POST', `${url}/v1/admin/policies`, {
      token: admin.accessToken,
      body: { version: '2032-01', effectiveAt: 'soon', summary: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('VALIDATION_FAILED');
  });

  it('grants and withdraws purposes, keeping every change in the ledger; refuses unknown purposes and withdrawing service', async () => {
    const user = await signIn(backend);
    const granted = await call('PUT', `${url}/v1/me/consents/marketing`, { token: user.accessToken, body: { granted: true } });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ purpose: 'marketing', granted: true, policyVersion: '2020-01' });
    const withdrawn = await call('PUT', `${url}/v1/me/consents/marketing`, { token: user.accessToken, body: { granted: false } });
    expect(withdrawn.body).toMatchObject({ purpose: 'marketing', granted: false });

    const unknown = await call('PUT', `${url}/v1/me/consents/telemetry`, { token: user.accessToken, body: { granted: true } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('NOT_FOUND');
    const service = await call('PUT', `${url}/v1/me/consents/service`, { token: user.accessToken, body: { granted: false } });
    expect(service.status).toBe(409);
    expect(service.body.message).toMatch(/delet\w* the account/i);
    expect(service.body.message).toContain('DELETE /v1/me');
    const wrongType = await call('PUT', `${url}/v1/me/consents/marketing`, { token: user.accessToken, body: { granted: 'yes' } });
    expect(wrongType.status).toBe(400);
    expect((await call('PUT', `${url}/v1/me/consents/marketing`, { body: { granted: true } })).status).toBe(401);

    const history = await db.query('SELECT purpose, granted, seq FROM consent_events WHERE subject_id = $1 ORDER BY seq', [user.userId]);
    expect(history.rows).toEqual([
      { purpose: 'service', granted: true, seq: 1 },
      { purpose: 'marketing', granted: true, seq: 2 },
      { purpose: 'marketing', granted: false, seq: 3 },
    ]);
  });

  it('the database refuses to change or delete a ledger event', async () => {
    await expect(db.query('UPDATE consent_events SET granted = NOT granted')).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM consent_events')).rejects.toThrow(/append-only/);
  });

  it('restriction turns off everything but service and is part of the export', async () => {
    const user = await signIn(backend);
    await grantAll(backend, user);
    const restricted = await call('POST', `${url}/v1/me/restriction`, { token: user.accessToken, body: { restricted: true } });
    expect(restricted.status).toBe(200);
    expect(restricted.body).toEqual({ restricted: true });
    const live = await db.query(
      `SELECT p AS purpose, privacy_is_live($1, p) AS live FROM unnest(ARRAY['service','marketing','repair_contact']) AS p`,
      [user.userId],
    );
    expect(live.rows).toEqual([
      { purpose: 'service', live: true },
      { purpose: 'marketing', live: false },
      { purpose: 'repair_contact', live: false },
    ]);
    const exported = await call('GET', `${url}/v1/me/export`, { token: user.accessToken });
    expect(exported.body.restriction).toEqual({ restricted: true });
    await setRestriction(backend, user, false);
    const lifted = await db.query(`SELECT privacy_is_live($1, 'marketing') AS live`, [user.userId]);
    expect(lifted.rows[0].live).toBe(true);
  });

  it('exports profile, consents with history and the access log; corrections go through PATCH /v1/me', async () => {
    const user = await signIn(backend);
    const patched = await call('PATCH', `${url}/v1/me`, { token: user.accessToken, body: { nickname: 'Mei', birthDate: '1990-05-17' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ nickname: 'Mei', birthDate: '1990-05-17' });
    await setConsent(backend, user, 'repair_contact', true);
    await db.query(
      `INSERT INTO access_log (subject_id, actor_id, actor_role, what, purpose) VALUES ($1, $2, 'technician', 'repair visit: contact', 'repair_contact')`,
      [user.userId, admin.userId],
    );
    const log = await call('GET', `${url}/v1/me/access-log`, { token: user.accessToken });
    expect(log.status).toBe(200);
    expect(log.body).toEqual([
      { at: expect.any(String), actorRole: 'technician', actorId: admin.userId, what: 'repair visit: contact', purpose: 'repair_contact' },
    ]);

    const exported = await call('GET', `${url}/v1/me/export`, { token: user.accessToken });
    expect(exported.status).toBe(200);
    expect(exported.body.subjectId).toBe(user.userId);
    expect(exported.body.profile).toMatchObject({ id: user.userId, phone: user.phone, nickname: 'Mei', birthDate: '1990-05-17' });
    expect(exported.body.consents.current.find((entry: { purpose: string }) => entry.purpose === 'repair_contact').granted).toBe(true);
    expect(
      exported.body.consents.history.map((event: { purpose: string; channel: string }) => `${event.purpose}:${event.channel}`),
    ).toEqual(['service:login', 'repair_contact:app']);
    expect(exported.body.accessLog).toHaveLength(1);
  });

  it('answers many exports at once, more than the database pool holds, and goes on serving', async () => {
    const user = await signIn(backend);
    const answers = await Promise.all(Array.from({ length: 25 }, () => call('GET', `${url}/v1/me/export`, { token: user.accessToken })));
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.every((answer) => answer.body.subjectId === user.userId)).toBe(true);
    expect((await call('GET', `${url}/health`)).status).toBe(200);
  });

  it('DELETE /v1/me erases the account: personal data gone, tokens dead, the phone free to sign up again', async () => {
    const user = await signIn(backend);
    await call('PATCH', `${url}/v1/me`, { token: user.accessToken, body: { name: 'Wang Fang', location: 'Foshan', gender: 'female' } });
    await setConsent(backend, user, 'marketing', true);
    const erased = await call('DELETE', `${url}/v1/me`, { token: user.accessToken });
    expect(erased.status).toBe(204);

    const row = await db.query('SELECT phone, nickname, name, gender, birth_date, location, deleted_at FROM users WHERE id = $1', [
      user.userId,
    ]);
    expect(row.rows[0]).toMatchObject({ phone: null, nickname: null, name: null, gender: null, birth_date: null, location: null });
    expect(row.rows[0].deleted_at).not.toBeNull();
    expect((await call('GET', `${url}/v1/me`, { token: user.accessToken })).status).toBe(401);
    expect((await call('GET', `${url}/v1/me/export`, { token: user.accessToken })).status).toBe(401);
    expect((await call('POST', `${url}/v1/auth/refresh`, { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    const ended = await db.query(
      `SELECT purpose, granted, channel FROM consent_events WHERE subject_id = $1 AND channel = 'account_erasure' ORDER BY seq`,
      [user.userId],
    );
    expect(ended.rows).toEqual([
      { purpose: 'marketing', granted: false, channel: 'account_erasure' },
      { purpose: 'service', granted: false, channel: 'account_erasure' },
    ]);

    const again = await signIn(backend, user.phone);
    expect(again.userId).not.toBe(user.userId);
    const profile = await call('GET', `${url}/v1/me`, { token: again.accessToken });
    expect(profile.body).toMatchObject({ phone: user.phone, name: null, location: null });
  });

  it('privacy:retention applies the periods and sweeps values that have no live purpose', async () => {
    const cli = 'dist/scripts/privacy-retention.js';
    expect(existsSync(cli)).toBe(true);
    // A row written around the writer with raw SQL, by someone who never accepted the service: the sweep must clear it.
    const stray = await db.query(`INSERT INTO users (phone, name) VALUES ($1, 'Stray') RETURNING id`, [newPhone()]);
    const kept = await signIn(backend);
    await call('PATCH', `${url}/v1/me`, { token: kept.accessToken, body: { name: 'Kept' } });
    const run = await runCli(cli, backend.databaseUrl);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/users\.phone: 1 value\(s\) erased \(no-live-purpose\)/);
    expect(run.stdout).toMatch(/Retention applied to \d+ tagged column\(s\)/);
    const rows = await db.query('SELECT id, phone, name FROM users WHERE id = ANY($1)', [[stray.rows[0].id, kept.userId]]);
    const byId = Object.fromEntries(rows.rows.map((row) => [row.id, row]));
    expect(byId[stray.rows[0].id]).toMatchObject({ phone: null, name: null });
    expect(byId[kept.userId]).toMatchObject({ phone: kept.phone, name: 'Kept' });
  });

  it('privacy:verify-ledger passes on an intact ledger, then names an edited row and exits non-zero', async () => {
    const cli = 'dist/scripts/privacy-verify-ledger.js';
    expect(existsSync(cli)).toBe(true); // npm test builds before running the suites
    const run = () => runCli(cli, backend.databaseUrl);
    const intact = await run();
    expect(intact.stderr).toBe('');
    expect(intact.stdout).toMatch(/Consent ledger intact/);
    expect(intact.status).toBe(0);

    const user = await signIn(backend);
    await setConsent(backend, user, 'network_setup', true);
    const { rows } = await db.query(`SELECT id FROM consent_events WHERE subject_id = $1 AND purpose = 'network_setup'`, [user.userId]);
    const id = String(rows[0].id);
    // Someone with owner rights on the database turns the protection off and edits history.
    await db.query('ALTER TABLE consent_events DISABLE TRIGGER consent_events_no_change');
    await db.query(`UPDATE consent_events SET at = at - interval '1 day' WHERE id = $1`, [id]);
    await db.query('ALTER TABLE consent_events ENABLE TRIGGER consent_events_no_change');
    const tampered = await run();
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toContain(`consent_events id=${id}`);
    expect(tampered.stdout).toMatch(/hash does not match/);

    // A deleted event is named too: the last one through the cached state, an earlier one through the chain.
    const other = await signIn(backend);
    await setConsent(backend, other, 'marketing', true);
    await setConsent(backend, other, 'product_improvement', true);
    await db.query('ALTER TABLE consent_events DISABLE TRIGGER consent_events_no_change');
    await db.query(`DELETE FROM consent_events WHERE subject_id = $1 AND purpose = 'marketing'`, [other.userId]);
    await db.query('ALTER TABLE consent_events ENABLE TRIGGER consent_events_no_change');
    const deleted = await run();
    expect(deleted.status).toBe(1);
    expect(deleted.stdout).toContain(
      `consent_state (subject ${other.userId}, purpose marketing): no event in the ledger supports this state`,
    );
    expect(deleted.stdout).toMatch(new RegExp(`subject ${other.userId}, seq 3\\): expected seq 2`));
  });
});
