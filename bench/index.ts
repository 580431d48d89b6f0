import 'reflect-metadata';
import { cpus } from 'node:os';
import { markdownTable, type BenchSection } from './section.js';
import { brokerConnectStorm } from './sections/broker-connect-storm.js';
import { pairingWave } from './sections/pairing-wave.js';
import { faultIngestion } from './sections/fault-ingestion.js';
import { otaCampaign } from './sections/ota-campaign.js';
import { telemetryIngestion } from './sections/telemetry-ingestion.js';
import { stateRoundTrip } from './sections/state-round-trip.js';

// `npm run bench [-- --only <section>]`: benchmarks, not tests. Each section prints a Markdown table
// ready for the README's Performance section.
const SECTIONS: BenchSection[] = [brokerConnectStorm, pairingWave, faultIngestion, otaCampaign, telemetryIngestion, stateRoundTrip];

const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;
const chosen = SECTIONS.filter((section) => !only || section.name === only);
if (chosen.length === 0) {
  process.stderr.write(`no section named ${only}; sections: ${SECTIONS.map((section) => section.name).join(', ')}\n`);
  process.exit(1);
}
process.stdout.write(`bench on ${cpus().length} CPU(s), ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`);
for (const section of chosen) {
  process.stdout.write(`\n## ${section.name}: ${section.description}\n\n`);
  const started = Date.now();
  const result = await section.run();
  process.stdout.write(`${markdownTable(result.table)}\n`);
  for (const note of result.notes ?? []) process.stdout.write(`\n${note}\n`);
  process.stdout.write(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
process.exit(0);
