import { ConsentLedger } from '#libs/privacy';
import { commandLine } from './cli.js';
import { withPrivacy } from './privacy-cli.js';

// `npm run privacy:verify-ledger`: checks every consent chain and the derived state; names each bad row and exits 1.
commandLine('usage: npm run privacy:verify-ledger', {});
const { events, subjects, problems } = await withPrivacy((privacy) => privacy.get(ConsentLedger).verify());
for (const problem of problems) process.stdout.write(`TAMPERED ${problem.row}: ${problem.reason}\n`);
if (problems.length > 0) {
  process.stdout.write(`Consent ledger check FAILED: ${problems.length} problem(s) in ${events} event(s) of ${subjects} person(s).\n`);
  process.exit(1);
}
process.stdout.write(`Consent ledger intact: ${events} event(s) of ${subjects} person(s), every hash and the derived state agree.\n`);
