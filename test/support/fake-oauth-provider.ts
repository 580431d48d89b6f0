import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeProvider {
  url: string;
  /** Codes the provider accepts, and the account each one signs in. */
  grant(code: string, account: { openid: string; nickname?: string }): void;
  close(): Promise<void>;
}

/**
 * A small OAuth2 provider over real HTTP, shaped like WeChat's: the code is
 * traded at /token for {access_token, openid}; /profile returns the account.
 */
export async function startFakeOAuthProvider(): Promise<FakeProvider> {
  const codes = new Map<string, { openid: string; nickname?: string }>();
  const tokens = new Map<string, { openid: string; nickname?: string }>();
  let issued = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method === 'POST' && url.pathname === '/token') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        const account = codes.get(form.get('code') ?? '');
        if (form.get('grant_type') !== 'authorization_code' || form.get('client_secret') !== 'fake-secret' || !account) {
          return reply(400, { error: 'invalid_grant' });
        }
        codes.delete(form.get('code') ?? '');
        issued += 1;
        const accessToken = `fake-access-${issued}`;
        tokens.set(accessToken, account);
        return reply(200, { access_token: accessToken, openid: account.openid, expires_in: 7200 });
      }
      if (request.method === 'GET' && url.pathname === '/profile') {
        const bearer = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
        const account = tokens.get(bearer);
        if (!account || url.searchParams.get('openid') !== account.openid) return reply(401, { error: 'invalid_token' });
        return reply(200, { openid: account.openid, nickname: account.nickname ?? null });
      }
      reply(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    grant: (code, account) => codes.set(code, account),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
