import fc from 'fast-check';
import { expectDeviceTablesAsModelled } from '../checks.js';
import { expectTelemetryAsModelled } from '../telemetry-checks.js';
import { retainInModel } from '../model.js';
import { step, tick, type Step } from '../world.js';

/** Retention looks ahead: whole hours up to 800 days, or minutes around the 24 hours of pairing network info. */
export const retention: fc.Arbitrary<Step> = fc
  .oneof(
    fc.integer({ min: 0, max: 24 * 800 }).map((hours) => hours * 60),
    fc.integer({ min: 24 * 60 - 20, max: 24 * 60 + 20 }),
  )
  .map((minutesAhead) =>
    step('retention', { minutesAhead }, async (world) => {
      const at = tick(world).getTime() + minutesAhead * 60_000;
      await world.retention.apply(new Date(at));
      retainInModel(world, at);
      await expectDeviceTablesAsModelled(world);
      await expectTelemetryAsModelled(world);
    }),
  );
