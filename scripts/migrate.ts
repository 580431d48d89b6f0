import 'reflect-metadata';
import { loadConfigOrExit } from '#libs/config';
import { runMigrations } from '#libs/database';
import { commandLine } from './cli.js';

// `npm run migration:run`: applies pending migrations to DATABASE_URL (the containers' start step).
commandLine('usage: npm run migration:run   (applies pending migrations to DATABASE_URL)', {});
const config = loadConfigOrExit();
if (!config.database.url) {
  process.stderr.write('DATABASE_URL is not set; "npm start" migrates the embedded PostgreSQL by itself.\n');
  process.exit(1);
}
try {
  const applied = await runMigrations(config.database.url);
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
} catch (error) {
  process.stderr.write(`Migration failed: ${String(error)}\n`);
  process.exit(1);
}
