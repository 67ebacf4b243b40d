/** npm run migrate: applies pending schema migrations to the configured database. */
import { loadCliConfig } from './load-cli-config.js';
import { createRepository } from '../container.js';

const config = loadCliConfig();
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
