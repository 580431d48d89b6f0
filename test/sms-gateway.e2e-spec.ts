import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { newPhone } from './factories/users.js';

/** The SMS gateway (SMS_DRIVER=http) as a local server that keeps what it is sent. */
async function gateway(): Promise<{ server: Server; url: string; received: Array<{ to: string; code: string; text: string }> }> {
  const received: Array<{ to: string; code: string; text: string }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(JSON.parse(body));
      response.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`, received };
}

describe.each([
  [600, '10 minutes'],
  [60, '1 minute'],
  [90, '90 seconds'],
])('the sign-in SMS with codes living %i s', (ttlSeconds, said) => {
  let backend: TestBackend;
  let sms: Awaited<ReturnType<typeof gateway>>;

  beforeAll(async () => {
    sms = await gateway();
    backend = await startTestBackend({ sms: { driver: 'http', http: { url: sms.url, token: '' } }, auth: { otp: { ttlSeconds } } });
  });
  afterAll(async () => {
    await backend?.stop();
    sms?.server.close();
  });

  it(`says the code expires in ${said}`, async () => {
    const phone = newPhone();
    expect((await call('POST', `${backend.provisioningUrl}/v1/auth/otp`, { body: { phone } })).status).toBe(202);
    expect(sms.received).toHaveLength(1);
    const [message] = sms.received;
    expect(message.to).toBe(phone);
    expect(message.text).toBe(`Your verification code is ${message.code}. It expires in ${said}.`);
  });
});
