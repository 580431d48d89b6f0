import 'reflect-metadata';
import { runStandalone } from '#libs/platform';
import { startProvisioning } from './provisioning.app.js';

await runStandalone('provisioning', startProvisioning);
