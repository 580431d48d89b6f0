import 'reflect-metadata';
import { runStandalone } from '#libs/platform';
import { startFaultFeedback } from './fault-feedback.app.js';

await runStandalone('fault-feedback', startFaultFeedback);
