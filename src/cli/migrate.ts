/** npm run migrate: applies pending schema migrations to the configured database. */
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from '../config/config.js';
import { createRepository } from '../container.js';

loadDotenv({ quiet: true });
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(2);
}
const repository = createRepository(config.database);
try {
  const applied = await repository.migrate();
  console.log(applied === 0 ? 'The database is up to date.' : `Applied ${applied} migration(s).`);
} catch (error) {
  console.error(`Migration failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await repository.close();
}
