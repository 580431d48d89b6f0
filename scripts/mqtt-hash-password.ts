import { hashServicePassword } from '../apps/broker/src/service-accounts.js';

// `npm run mqtt:hash-password -- <password>`: the passwordHash for an account in mqtt.operatorAccounts.
const password = process.argv[2];
if (!password || password.length < 12) {
  process.stderr.write('usage: npm run mqtt:hash-password -- <password of at least 12 characters>\n');
  process.exit(1);
}
process.stdout.write(`${await hashServicePassword(password)}\n`);
