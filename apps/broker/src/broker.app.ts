import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { listenOn, startHttpApp, type AppContext, type RunningApp } from '#libs/platform';
import { BrokerHttpModule } from './broker.module.js';
import { ServiceAccountDirectory } from './service-accounts.js';

const BAD_CREDENTIALS = 4;

/** Starts one broker node: MQTT over TCP plus its HTTP side (/health, /docs). */
export async function startBroker(context: AppContext): Promise<RunningApp> {
  const { config, logger } = context;
  const log = logger.child({ app: 'broker' });
  const accounts = new ServiceAccountDirectory(config);
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const account = accounts.verify(username, password);
      if (!account) {
        log.warn({ reason: 'bad_credentials' }, 'MQTT connect refused');
        const error = Object.assign(new Error('Bad username or password'), { returnCode: BAD_CREDENTIALS }) as AuthenticateError;
        return done(error, false);
      }
      done(null, true);
    },
  });
  broker.on('clientError', (_client, error) => log.debug({ err: error }, 'MQTT client error'));
  broker.on('connectionError', (_client, error) => log.debug({ err: error }, 'MQTT connection error'));
  const mqttServer: Server = createServer(broker.handle);
  let mqttPort: number;
  try {
    mqttPort = await listenOn(mqttServer, config.ports.mqtt, config.host, 'MQTT_PORT');
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  mqttServer.on('error', (error) => log.error({ err: error }, 'MQTT listener error'));
  log.info({ port: mqttPort }, `broker MQTT listening on mqtt://${config.host}:${mqttPort}`);
  const mqttListener = { name: 'mqtt', isUp: async () => mqttServer.listening && !broker.closed };
  let http;
  try {
    http = await startHttpApp(BrokerHttpModule.forRoot(config, context.databaseUrl, mqttListener), {
      name: 'broker',
      title: 'Broker',
      port: config.ports.brokerHttp,
      host: config.host,
      portVariable: 'BROKER_HTTP_PORT',
      logger,
    });
  } catch (error) {
    await new Promise<void>((resolve) => mqttServer.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  return {
    name: 'broker',
    ports: { mqtt: mqttPort, http: http.port },
    async stop() {
      await new Promise<void>((resolve) => mqttServer.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await http.close();
    },
  };
}
