import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import { ENV_VARIABLES, loadConfig, parseMqttUrls } from '#libs/config';

/**
 * No Docker engine runs where the tests do, so these check what can be
 * checked without one: every container's command exists, every variable it
 * sets is one the apps read, and the production settings pass validation.
 */
const root = process.cwd();
type Service = {
  command?: string[];
  environment?: Record<string, string>;
  image?: string;
  build?: string;
  ports?: string[];
  volumes?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
};
/** Applies YAML merge keys (`<<: *anchor`), as Compose does. */
function mergeKeys(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(mergeKeys);
  if (!node || typeof node !== 'object') return node;
  const { '<<': base, ...own } = node as Record<string, unknown>;
  const merged: Record<string, unknown> = base ? { ...(mergeKeys(base) as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(own)) merged[key] = mergeKeys(value);
  return merged;
}
const compose = mergeKeys(load(readFileSync(join(root, 'docker-compose.yml'), 'utf8'))) as { services: Record<string, Service> };
const appServices = Object.entries(compose.services).filter(([, service]) => service.build);

function fill(value: string): string {
  return value.replace(/\$\{(\w+)(?::?[?-][^}]*)?\}/g, (_match, name: string) =>
    name === 'SMS_HTTP_URL'
      ? 'https://sms.example/send'
      : name === 'ADMIN_PHONES'
        ? '+8613700000001'
        : `${name.toLowerCase()}-${'x'.repeat(40)}`,
  );
}

describe('docker-compose.yml and Dockerfile', () => {
  it('has postgres, redis, rabbitmq, the balancer, the broker nodes and both services', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'redis',
        'broker-1',
        'broker-2',
        'provisioning',
        'fault-feedback',
        'migrate',
        'rabbitmq',
        'balancer',
      ]),
    );
  });

  describe('scaled out', () => {
    const { services } = compose;
    const brokers = Object.entries(services).filter(([, service]) => service.command?.[1] === 'dist/apps/broker/src/main.js');
    const replicated = ['provisioning', 'fault-feedback'];
    const consumers = [...brokers.map(([name]) => name), ...replicated];
    const hostPort = (mapping: string) => mapping.split(':').slice(-2)[0];

    it('runs RabbitMQ that holds quorum queues, and the broker nodes and services reach it through EVENT_BUS_URL', () => {
      const [, major, minor] = /^rabbitmq:(\d+)\.(\d+)/.exec(services.rabbitmq?.image ?? '') ?? [];
      expect(Number(major) * 100 + Number(minor)).toBeGreaterThanOrEqual(308);
      for (const name of consumers) {
        expect([name, services[name].environment?.EVENT_BUS_URL]).toEqual([
          name,
          expect.stringMatching(/^amqps?:\/\/[^@/]+@rabbitmq:5672\//),
        ]);
        expect([name, services[name].depends_on?.rabbitmq?.condition]).toEqual([name, 'service_healthy']);
      }
    });

    it('puts one MQTT address (HAProxy, deploy/haproxy.cfg) in front of both broker nodes', () => {
      expect(brokers.map(([name]) => name).sort()).toEqual(['broker-1', 'broker-2']);
      const balancer = services.balancer;
      expect(balancer.image).toMatch(/^haproxy:/);
      expect(balancer.ports?.map(hostPort)).toContain('1883');
      const mount = balancer.volumes?.find((volume) => volume.endsWith(':/usr/local/etc/haproxy/haproxy.cfg:ro'));
      const cfg = readFileSync(join(root, mount!.split(':')[0]), 'utf8');
      // The frontend on :1883 is TCP and its backend lists every broker node's MQTT port.
      const frontend = /^frontend \S+\n((?: .*\n)+)/gm;
      const mqttFrontend = [...cfg.matchAll(frontend)].map((match) => match[1]).find((body) => /bind :1883\b/.test(body));
      expect(mqttFrontend).toMatch(/mode tcp/);
      const backendName = /default_backend (\S+)/.exec(mqttFrontend!)![1];
      const backend = new RegExp(`^backend ${backendName}\\n((?: .*\\n)+)`, 'm').exec(cfg)![1];
      expect(backend).toMatch(/mode tcp/);
      for (const [name] of brokers) expect(backend).toMatch(new RegExp(`server \\S+ ${name}:1883 check`));
      // Only the balancer takes MQTT from outside.
      for (const [name, service] of brokers)
        expect([name, (service.ports ?? []).map(hostPort)]).not.toEqual([name, expect.arrayContaining(['1883'])]);
    });

    it('runs two replicas of each service, each given both broker nodes in MQTT_URL', () => {
      for (const name of replicated) {
        const service = services[name];
        expect([name, service.deploy?.replicas]).toEqual([name, 2]);
        // Replicas cannot share a host port: HTTP reaches them through the balancer.
        expect([name, service.ports ?? []]).toEqual([name, []]);
        const nodes = parseMqttUrls(service.environment?.MQTT_URL);
        expect(nodes?.map((node) => `${node.host}:${node.port}`).sort()).toEqual(brokers.map(([broker]) => `${broker}:1883`).sort());
      }
    });
  });

  it.each(appServices)('%s runs a file the build produces, with variables the apps read', (_name, service) => {
    const [binary, script] = service.command ?? [];
    expect(binary).toBe('node');
    const source = join(root, script.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    expect(existsSync(source)).toBe(true);
    const known = new Set(['NODE_ENV', ...ENV_VARIABLES.map((variable) => variable.env)]);
    for (const key of Object.keys(service.environment ?? {})) expect(known.has(key) ? key : `unknown ${key}`).toBe(key);
  });

  it('gives the apps a production configuration that passes validation', () => {
    const [, service] = appServices[0];
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, fill(String(value))]));
    const config = loadConfig({ configDir: join(root, 'config'), env });
    expect(config.env).toBe('production');
    expect(config.database.url).toMatch(/^postgres:\/\/appliance:.+@postgres:5432\/appliance$/);
  });

  it('production.example.yaml, copied to production.yaml with its secrets filled in, passes validation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    copyFileSync(join(root, 'config', 'default.yaml'), join(dir, 'default.yaml'));
    const example = readFileSync(join(root, 'config', 'production.example.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'production.yaml'),
      example.replace(/CHANGE_ME\w*/g, () => `secret-${'x'.repeat(40)}`),
    );
    const config = loadConfig({ configDir: dir, env: { NODE_ENV: 'production' } });
    rmSync(dir, { recursive: true });
    expect(config.sms.driver).toBe('http');
    expect(config.database.url).toMatch(/^postgres:\/\//);
  });

  it('builds in stages and runs as a non-root user', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER (?!root)\w+/m);
    for (const folder of ['apps', 'libs', 'scripts', 'console']) expect(dockerfile).toContain(`COPY ${folder} ${folder}`);
  });

  it('copies from the checkout only files that exist, each once', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((match) => match[1].split(' '));
    expect(sources.filter((source) => !existsSync(join(root, source)))).toEqual([]);
    expect(sources.filter((source, index) => sources.indexOf(source) !== index)).toEqual([]);
  });
});
