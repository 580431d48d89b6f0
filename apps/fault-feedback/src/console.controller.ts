import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Header, NotFoundException, Param, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig } from '#libs/config';

/** What the console's browser code reads at start: where sign-in lives. */
export interface ConsoleSettings {
  /** Provisioning's URL as configured; empty = the console's own host name on provisioningPort. */
  provisioningUrl: string;
  provisioningPort: number;
}

/** `npm run build` writes the console to dist/console at the package root, whether we run from src (tests) or dist. */
export function consoleDirectory(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'console');
}

/**
 * Serves the built service console at /console (a single-page app: unknown
 * paths get index.html, so a typed visit URL opens the app, which asks the API).
 * The console has no back door: it calls the public HTTP API like any client.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly root = consoleDirectory();

  constructor(private readonly config: AppConfig) {}

  @Get('config.json')
  @Header('cache-control', 'no-store')
  settings(): ConsoleSettings {
    return { provisioningUrl: this.config.console.provisioningUrl, provisioningPort: this.config.ports.provisioningHttp };
  }

  @Get(['', '{*path}'])
  page(@Param('path') path: string[] | string | undefined, @Res() response: Response): void {
    const relative = (Array.isArray(path) ? path.join('/') : (path ?? '')).replace(/^\/+/, '');
    const file = resolve(this.root, relative);
    const index = join(this.root, 'index.html');
    if (!existsSync(index)) throw new ServiceUnavailableException('The console has not been built: run npm run build');
    if (relative && (file === this.root || file.startsWith(this.root + sep)) && statSync(file, { throwIfNoEntry: false })?.isFile()) {
      // Vite names assets by content hash, so they never change under the same name.
      if (relative.startsWith('assets/')) response.setHeader('cache-control', 'public, max-age=31536000, immutable');
      response.sendFile(file, { dotfiles: 'deny' });
      return;
    }
    if (relative.startsWith('assets/') || /\.[a-z0-9]+$/i.test(relative)) throw new NotFoundException('No such console file');
    response.setHeader('cache-control', 'no-cache');
    response.sendFile(index);
  }
}
