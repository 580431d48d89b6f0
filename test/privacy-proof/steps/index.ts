import type fc from 'fast-check';
import type { Step } from '../world.js';
import { confirmPairing, factoryReset, pairDevice, registerDevice, unbindDevice } from './devices.js';
import { reportFault } from './faults.js';
import { endPairing, updateNotes, writeNote } from './notes.js';
import { consent, eraseAccount, restrict, signUp, writeProfile } from './people.js';
import { retention } from './retention.js';
import { reportState, requestControl, shareDevice } from './state.js';
import { sendReadings } from './telemetry.js';

/** Weighted generators of one step. A context that adds tagged tables (repairs next) adds its steps here. */
export const STEP_GENERATORS: Array<{ weight: number; arbitrary: fc.Arbitrary<Step> }> = [
  { weight: 2, arbitrary: signUp },
  { weight: 6, arbitrary: consent },
  { weight: 2, arbitrary: restrict },
  { weight: 5, arbitrary: writeNote },
  { weight: 2, arbitrary: updateNotes },
  { weight: 2, arbitrary: writeProfile },
  { weight: 1, arbitrary: endPairing },
  { weight: 1, arbitrary: retention },
  { weight: 1, arbitrary: eraseAccount },
  { weight: 1, arbitrary: registerDevice },
  { weight: 5, arbitrary: pairDevice },
  { weight: 5, arbitrary: confirmPairing },
  { weight: 1, arbitrary: unbindDevice },
  { weight: 1, arbitrary: factoryReset },
  { weight: 5, arbitrary: reportFault },
  { weight: 5, arbitrary: sendReadings },
  { weight: 2, arbitrary: shareDevice },
  { weight: 5, arbitrary: reportState },
  { weight: 5, arbitrary: requestControl },
];
