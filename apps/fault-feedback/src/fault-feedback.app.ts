import { startServiceApp, type AppContext, type RunningApp } from '#libs/platform';
import { FaultFeedbackModule } from './fault-feedback.module.js';

/** Fault feedback: fault reports from appliances, repairs and technician visits. */
export function startFaultFeedback(context: AppContext): Promise<RunningApp> {
  const { config } = context;
  return startServiceApp(context, {
    name: 'fault-feedback',
    title: 'Fault feedback API',
    port: config.ports.faultsHttp,
    portVariable: 'FAULTS_HTTP_PORT',
    account: config.mqtt.serviceAccounts.faultFeedback,
    // Fixed, so the broker keeps this consumer's session (and the reports sent while it is down) across restarts.
    consumerClientId: `${config.mqtt.serviceAccounts.faultFeedback.username}-ingest`,
    module: (mqtt) => FaultFeedbackModule.forRoot(config, context.databaseUrl, mqtt),
  });
}
