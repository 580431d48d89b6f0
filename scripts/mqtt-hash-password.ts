import { hashServicePassword } from '../apps/broker/src/service-accounts.js';
import { commandLine, usageError } from './cli.js';

// `npm run mqtt:hash-password -- <password>`: the passwordHash for an account in mqtt.operatorAccounts.
const usage = 'usage: npm run mqtt:hash-password -- <password of at least 12 characters>';
const [password] = commandLine(usage, {}, 1).positionals;
if (!password || password.length < 12) usageError(usage, password ? 'The password is shorter than 12 characters' : undefined);
process.stdout.write(`${await hashServicePassword(password)}\n`);
