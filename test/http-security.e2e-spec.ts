import { randomBytes } from 'node:crypto';
import { Agent, get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { describeIfBrowser, launchConsoleBrowser, type ConsoleBrowser } from './support/browser.js';
import { call } from './support/http.js';
import { newPhone } from './factories/users.js';

/** Secrets that pass NODE_ENV=production's refusal of development values. */
function productionSettings(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const secret = () => randomBytes(24).toString('hex');
  return {
    env: 'production',
    devices: { secretKey: secret() },
    auth: { jwtSecret: secret(), otpPepper: secret() },
    mqtt: { serviceAccounts: { provisioning: { password: secret() }, faultFeedback: { password: secret() } } },
    sms: { driver: 'http', http: { url: 'http://127.0.0.1:9/unused', token: '' } },
    ...extra,
  };
}

/** A GET through `agent`: its status, the Keep-Alive header, and which connection carried it. */
function get(url: string, agent: Agent): Promise<{ status: number; keepAlive: string; reused: boolean; localPort: number }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          keepAlive: String(response.headers['keep-alive'] ?? ''),
          reused: request.reusedSocket,
          localPort: request.socket?.localPort ?? 0,
        }),
      );
    });
    request.on('error', reject);
  });
}

function header(response: Response, name: string): string {
  return response.headers.get(name) ?? '';
}

describe('security headers', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startTestBackend();
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('sends helmet headers and no X-Powered-By on every app, API answers, errors and pages alike', async () => {
    const urls = [
      `${backend.provisioningUrl}/health`,
      `${backend.provisioningUrl}/v1/me`,
      `${backend.faultsUrl}/v1/repairs`,
      `${backend.faultsUrl}/console/`,
      `${backend.brokerHttpUrl}/health`,
      `${backend.provisioningUrl}/docs`,
    ];
    for (const url of urls) {
      const response = await fetch(url);
      expect({ url, poweredBy: response.headers.get('x-powered-by') }).toEqual({ url, poweredBy: null });
      expect({ url, nosniff: header(response, 'x-content-type-options') }).toEqual({ url, nosniff: 'nosniff' });
      expect({ url, frame: header(response, 'x-frame-options') }).toEqual({ url, frame: 'SAMEORIGIN' });
      const policy = header(response, 'content-security-policy');
      expect({ url, policy }).toEqual({ url, policy: expect.stringContaining("frame-ancestors 'none'") });
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('upgrade-insecure-requests');
      expect(header(response, 'strict-transport-security')).toMatch(/max-age=\d+/);
    }
  });

  it("keeps an idle keep-alive connection open past Node's 5 s, announcing 65 s, so a client or proxy closes it first", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const url of [`${backend.provisioningUrl}/health`, `${backend.faultsUrl}/health`, `${backend.brokerHttpUrl}/health`]) {
        const first = await get(url, agent);
        expect({ url, keepAlive: first.keepAlive }).toEqual({ url, keepAlive: 'timeout=65' });
        // Idle longer than Node's default keepAliveTimeout: the server would have closed the connection by now.
        await new Promise((resolve) => setTimeout(resolve, 6000));
        const second = await get(url, agent);
        expect({ url, status: second.status, reused: second.reused, port: second.localPort }).toEqual({
          url,
          status: 200,
          reused: true,
          port: first.localPort,
        });
      }
    } finally {
      agent.destroy();
    }
  }, 30_000);

  it("lets the console's page fetch only itself and provisioning, where it signs in", async () => {
    const response = await fetch(`${backend.faultsUrl}/console/`);
    const policy = header(response, 'content-security-policy');
    const connect = policy.split(';').find((directive) => directive.trim().startsWith('connect-src'));
    expect(connect?.trim()).toBe(`connect-src 'self' http://127.0.0.1:${new URL(backend.provisioningUrl).port}`);
    expect(policy).toContain("style-src 'self';");
    // A Host header that is not a host name stays out of the policy.
    const forged = await fetch(`${backend.faultsUrl}/console/`, { headers: { host: "x;script-src 'unsafe-inline'" } });
    expect(header(forged, 'content-security-policy')).not.toContain('unsafe-inline');
  });
});

describeIfBrowser('security headers in a browser')('pages under their Content-Security-Policy', () => {
  let backend: TestBackend;
  let browser: ConsoleBrowser;

  beforeAll(async () => {
    backend = await startTestBackend();
    browser = await launchConsoleBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('Swagger UI at /docs and the console render with no policy violation', async () => {
    for (const [url, ready] of [
      [`${backend.provisioningUrl}/docs`, '.swagger-ui .info .title'],
      [`${backend.faultsUrl}/docs`, '.swagger-ui .opblock'],
      [`${backend.faultsUrl}/console/`, 'text=Send code'],
    ] as const) {
      const { page } = await browser.open();
      const refused: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      await page.goto(url);
      await page.locator(ready).first().waitFor();
      expect({ url, refused }).toEqual({ url, refused: [] });
    }
  });
});

describe('/docs in production', () => {
  let quiet: TestBackend;
  let opened: TestBackend;

  beforeAll(async () => {
    quiet = await startTestBackend(productionSettings());
    opened = await startTestBackend(productionSettings({ http: { docs: 'on' } }));
  });
  afterAll(async () => {
    await quiet?.stop();
    await opened?.stop();
  });

  it('is not served unless http.docs (HTTP_DOCS) turns it on', async () => {
    for (const base of [quiet.provisioningUrl, quiet.faultsUrl, quiet.brokerHttpUrl]) {
      expect((await call('GET', `${base}/docs`)).status).toBe(404);
      expect((await call('GET', `${base}/docs-json`)).status).toBe(404);
      expect((await call('GET', `${base}/health`)).status).toBe(200);
    }
    for (const base of [opened.provisioningUrl, opened.faultsUrl]) {
      expect((await call('GET', `${base}/docs-json`)).status).toBe(200);
    }
  });
});

describe('behind a load balancer (TRUST_PROXY)', () => {
  let direct: TestBackend;
  let proxied: TestBackend;
  const limit = { auth: { otp: { perIpPerHour: 3 } } };

  beforeAll(async () => {
    direct = await startTestBackend(limit);
    proxied = await startTestBackend({ ...limit, http: { trustProxy: 'loopback' } });
  });
  afterAll(async () => {
    await direct?.stop();
    await proxied?.stop();
  });

  const requestCode = (backend: TestBackend, forwardedFor: string) =>
    call('POST', `${backend.provisioningUrl}/v1/auth/otp`, {
      body: { phone: newPhone() },
      headers: { 'x-forwarded-for': forwardedFor },
    });

  it("counts sign-in codes per client address from X-Forwarded-For, so one client cannot spend everyone's budget", async () => {
    // The balancer (here on loopback) appends the address it saw; a client may send its own list before it.
    for (let index = 0; index < 3; index += 1) expect((await requestCode(proxied, '203.0.113.7')).status).toBe(202);
    expect((await requestCode(proxied, '203.0.113.7')).status).toBe(429);
    expect((await requestCode(proxied, '198.51.100.20, 203.0.113.7')).status).toBe(429);
    expect((await requestCode(proxied, '198.51.100.9')).status).toBe(202);
  });

  it('ignores X-Forwarded-For when no proxy is trusted: a client cannot pick its address', async () => {
    for (let index = 0; index < 3; index += 1) expect((await requestCode(direct, `203.0.113.${index + 1}`)).status).toBe(202);
    const refused = await requestCode(direct, '198.51.100.9');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'TOO_MANY_REQUESTS' });
  });
});
