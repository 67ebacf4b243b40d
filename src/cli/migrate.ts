/** npm run migrate: applies pending schema migrations to the configured database. */
import { describeDatabase, loadCliConfig } from './load-cli-config.js';
import { createRepository } from '../container.js';

const config = loadCliConfig();
const repository = createRepository(config.database);
try {
  const applied = await repository.migrate();
  const where = describeDatabase(config.database);
  console.log(applied === 0 ? `${where}: up to date.` : `${where}: applied ${applied} migration(s).`);
} catch (error) {
  console.error(`Migration failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await repository.close();
}
