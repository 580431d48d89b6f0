import 'reflect-metadata';
import { runStandalone } from '#libs/platform';
import { startBroker } from './broker.app.js';

await runStandalone('broker', startBroker);
