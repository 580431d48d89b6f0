import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type AppName = 'broker' | 'provisioning' | 'fault-feedback';

/** One app run as its own process (`npm run start:<app>`, the compiled code), its log lines kept. */
export interface AppProcess {
  name: AppName;
  child: ChildProcess;
  ports: Record<string, number>;
  /** Every JSON log line the process wrote so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Log lines whose message is `msg`. */
  logged(msg: string): Array<Record<string, unknown>>;
  get running(): boolean;
  /** Dies at once, as a crashed or OOM-killed process does (no drain, no goodbye to RabbitMQ, Redis or the broker). */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), then SIGKILL if it is not gone in time. */
  stop(): Promise<void>;
}

const MAIN: Record<AppName, string> = {
  broker: 'dist/apps/broker/src/main.js',
  provisioning: 'dist/apps/provisioning/src/main.js',
  'fault-feedback': 'dist/apps/fault-feedback/src/main.js',
};

/** Starts `name` with these environment variables (on top of NODE_ENV=test and port 0) and resolves once it logs that it is ready. */
export function startAppProcess(name: AppName, env: Record<string, string>, readyMs = 60_000): Promise<AppProcess> {
  const main = MAIN[name];
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first (npm test does)`);
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      MQTT_PORT: '0',
      BROKER_HTTP_PORT: '0',
      PROVISIONING_HTTP_PORT: '0',
      FAULTS_HTTP_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const app: AppProcess = {
    name,
    child,
    ports: {},
    logs,
    logged: (msg) => logs.filter((entry) => entry.msg === msg),
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill() {
      if (app.running) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!app.running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} was not ready in ${readyMs} ms`));
    }, readyMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr.join('').slice(-2000)}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = parseLine(line);
      if (!entry) return;
      logs.push(entry);
      if (entry.msg === `${name} ready` && entry.ports && typeof entry.ports === 'object') {
        app.ports = entry.ports as Record<string, number>;
        clearTimeout(timer);
        resolve(app);
      }
    });
  });
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
