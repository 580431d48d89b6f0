import { loadConfigOrExit } from '#libs/config';
import type { AppContext, RunningApp } from './app-context.js';
import { PortInUseError } from './listen.js';
import { createLogger } from './logger.js';
import { stopWhenNpmIsGone } from './npm-parent.js';
import { ConsumerAlreadyRunningError } from './service-app.js';

/**
 * Runs one app on its own (one container per app, as in docker-compose.yml):
 * needs DATABASE_URL, expects migrations applied (`npm run migration:run`),
 * stops cleanly on SIGINT/SIGTERM (and, run by npm, when npm is gone).
 */
export async function runStandalone(name: string, start: (context: AppContext) => Promise<RunningApp>): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.log.level, name);
  if (!config.database.url) {
    process.stderr.write(`${name}: DATABASE_URL is not set. Run "npm start" for the embedded PostgreSQL, or set DATABASE_URL.\n`);
    process.exit(1);
  }
  // Signals are handled from the start: one that arrives while the app is
  // still starting stops it as soon as it is up, instead of killing it mid-way.
  let signalled: string | undefined;
  let stopNow: ((signal: string) => Promise<void>) | undefined;
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    void stopNow?.(signal);
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  stopWhenNpmIsGone(() => onSignal('npm exited'));
  let app: RunningApp;
  try {
    app = await start({ config, databaseUrl: config.database.url, logger });
  } catch (error) {
    if (error instanceof PortInUseError || error instanceof ConsumerAlreadyRunningError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  logger.info({ ports: app.ports }, `${name} ready`);
  stopNow = async (signal: string) => {
    logger.info({ signal }, `${name} stopping`);
    await app.stop();
    process.exit(0);
  };
  if (signalled) await stopNow(signalled);
}
