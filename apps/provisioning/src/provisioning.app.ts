import { startServiceApp, type AppContext, type RunningApp } from '#libs/platform';
import { ProvisioningModule } from './provisioning.module.js';

/** Provisioning: the companion app's and admins' HTTP API. */
export function startProvisioning(context: AppContext): Promise<RunningApp> {
  const { config } = context;
  return startServiceApp(context, {
    name: 'provisioning',
    title: 'Provisioning API',
    port: config.ports.provisioningHttp,
    portVariable: 'PROVISIONING_HTTP_PORT',
    account: config.mqtt.serviceAccounts.provisioning,
    // Pairing confirmations and factory resets, in a persistent session: none is lost while provisioning is down.
    consumerClientId: `${config.mqtt.serviceAccounts.provisioning.username}-consumer`,
    module: (mqtt) => ProvisioningModule.forRoot(config, context.databaseUrl, mqtt),
  });
}
