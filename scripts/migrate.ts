import 'reflect-metadata';
import { ConfigError, loadConfig } from '#libs/config';
import { runMigrations } from '#libs/database';

// `npm run migration:run`: applies pending migrations to DATABASE_URL (the containers' start step).
try {
  const config = loadConfig();
  if (!config.database.url) {
    process.stderr.write('DATABASE_URL is not set; "npm start" migrates the embedded PostgreSQL by itself.\n');
    process.exit(1);
  }
  const applied = await runMigrations(config.database.url);
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `Migration failed: ${String(error)}`}\n`);
  process.exit(1);
}
