import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '#libs/config';

type Middleware = (request: Request, response: Response, next: NextFunction) => void;

/**
 * helmet on every response. Two Content-Security-Policies: one for the
 * OpenAPI page (Swagger UI styles itself with inline <style>), one for
 * everything else, the service console included: its own scripts, styles and
 * images only, and fetches to itself and to provisioning (where it signs in,
 * another origin). No page may be framed. `upgrade-insecure-requests` is left
 * out: over plain HTTP (development, a TLS-terminating proxy that forwards
 * HTTP) it would send the console's sign-in to an https:// that is not there.
 */
export function securityHeaders(config: AppConfig | undefined): Middleware {
  const shared = {
    defaultSrc: ["'self'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'"],
    scriptSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
  };
  const pages = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...shared,
        styleSrc: ["'self'"],
        connectSrc: ["'self'", (request: IncomingMessage) => provisioningOrigin(request as Request, config)],
      },
    },
  });
  const docs = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...shared, styleSrc: ["'self'", "'unsafe-inline'"], connectSrc: ["'self'"] },
    },
  });
  return (request, response, next) => {
    const handler = isDocsPath(request.path) ? docs : pages;
    handler(request as IncomingMessage, response as ServerResponse, next);
  };
}

export function isDocsPath(path: string): boolean {
  return path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-json') || path.startsWith('/docs-yaml');
}

/** Where the console's browsers reach provisioning: CONSOLE_PROVISIONING_URL, else this host name on provisioning's port. */
function provisioningOrigin(request: Request, config: AppConfig | undefined): string {
  if (!config) return "'self'";
  if (config.console.provisioningUrl) return new URL(config.console.provisioningUrl).origin;
  const host = request.hostname.includes(':') && !request.hostname.startsWith('[') ? `[${request.hostname}]` : request.hostname;
  // The Host header is the client's to write: only a plain host name may go into the policy.
  if (!/^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])$/.test(host)) return "'self'";
  return `${request.protocol}://${host}:${config.ports.provisioningHttp}`;
}
