import type { Logger } from 'pino';
import type { AppConfig } from '#libs/config';
import type { InProcessDeviceMessages } from './event-bus/in-process.js';

/** What the launcher (or a test) hands each app: validated config, the resolved database, a logger. */
export interface AppContext {
  config: AppConfig;
  databaseUrl: string;
  logger: Logger;
  /** Set by `npm start`: the broker hands device messages to the services of this process in memory. */
  deviceMessages?: InProcessDeviceMessages;
}

/** A started app: the ports it actually bound and how to stop it. */
export interface RunningApp {
  name: string;
  ports: Record<string, number>;
  stop(): Promise<void>;
}
