import { RetentionService } from '#libs/privacy';
import { commandLine } from './cli.js';
import { withPrivacy } from './privacy-cli.js';

// `npm run privacy:retention`: applies every category's retention period once (provisioning also runs it hourly).
commandLine('usage: npm run privacy:retention', {});
const results = await withPrivacy((privacy) => privacy.get(RetentionService).apply());
const erased = results.filter((result) => result.erased > 0);
for (const result of erased) {
  process.stdout.write(`${result.table}.${result.column}: ${result.erased} value(s) erased (${result.reason})\n`);
}
process.stdout.write(
  `Retention applied to ${results.length / 2} tagged column(s); ${erased.reduce((sum, result) => sum + result.erased, 0)} value(s) erased.\n`,
);
