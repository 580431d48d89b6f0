import { expect } from '@jest/globals';
import fc from 'fast-check';
import { arriveInModel } from '../telemetry-model.js';
import { count } from '../stats.js';
import { pickFrom, step, type Step } from '../world.js';

/** PX1's history points (the proof's appliances are PX1 purifiers); whole values, so sums compare exactly. */
const POINTS = ['tds', 'water_drawn'] as const;

const readingArb = fc.record({
  point: fc.constantFrom<string>(...POINTS, ...POINTS, ...POINTS, 'colour'),
  minutesAgo: fc.oneof(fc.integer({ min: 0, max: 3 * 60 }), fc.integer({ min: 0, max: 7 * 24 * 60 - 10 })),
  value: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constantFrom<number | string>(-1, 'lots')),
});

/**
 * An appliance sends readings through the ingestion (judging, batching,
 * the writer, COPY), the use-case provisioning's MQTT handler calls: new
 * readings (a few bad ones among them, dropped), or a message sent again.
 * Each reading is then what the model says arrives (telemetry-model.ts).
 */
export const sendReadings: fc.Arbitrary<Step> = fc
  .record({
    device: fc.nat(),
    boundDevice: fc.boolean(),
    readings: fc.array(readingArb, { minLength: 1, maxLength: 5 }),
    again: fc.constantFrom(false, false, false, true),
    // The owner may grant product_improvement right before, as the app offers, so counted readings (and their withdrawal) are common.
    grantFirst: fc.constantFrom(false, false, true),
  })
  .map(({ device, boundDevice, readings, again, grantFirst }) =>
    step('sendReadings', { device, boundDevice, readings, again, grantFirst }, async (world) => {
      const bound = world.runDevices.filter((candidate) => world.owners.has(candidate));
      const sn = pickFrom(boundDevice && bound.length ? bound : world.runDevices, device);
      if (!sn) return;
      const owner = world.owners.get(sn)?.userId;
      if (grantFirst && owner && world.model.get(owner)?.exists) {
        await world.consents.set(owner, 'product_improvement', true);
        world.model.get(owner)!.granted.add('product_improvement');
      }
      const now = Date.now();
      // Whole minutes a little in the past: never the same instant as "now", never ahead.
      const base = Math.floor(now / 60_000) * 60_000 - 60_000;
      const message = readings.map((reading) => ({
        point: reading.point,
        at: new Date(base - reading.minutesAgo * 60_000).toISOString(),
        value: reading.value,
      }));
      const times = (world.telemetryMessages.get(sn) ?? []).concat([message]);
      world.telemetryMessages.set(sn, times.slice(-3));
      const sent = again ? (pickFrom(world.telemetryMessages.get(sn)!, device) ?? message) : message;
      const receipt = await world.telemetryIngestion.receive(sn, Buffer.from(JSON.stringify({ readings: sent })));
      expect(receipt.outcome).toBe('taken');
      const model = world.devices.get(sn)!.model;
      let kept = 0;
      for (const reading of sent) {
        if (reading.point === 'colour' || typeof reading.value !== 'number' || reading.value < 0) continue;
        if (arriveInModel(world, sn, model, { point: reading.point, at: Date.parse(reading.at), value: reading.value })) kept += 1;
      }
      if (!world.owners.has(sn)) count('readings of a device nobody owns');
      else if (kept < sent.length) count('readings dropped or already stored');
    }),
  );
