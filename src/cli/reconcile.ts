const USAGE = `Usage: npm run reconcile [-- --fix] [--min-age-minutes=N]

Compares the database with every store the configuration uses (the bucket and the uploads
folder), using the same environment and .env as the server, and lists objects without rows and
rows without objects. A dry run by default; --fix removes orphan objects older than
--min-age-minutes (default 10), so uploads in progress are never touched. Rows are never removed.

Exit status: 0 when everything matches (after --fix, when no orphan is left), 1 when something
does not, 2 for bad arguments or configuration.`;
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { describeDatabase, loadCliConfig } from './load-cli-config.js';
import { createContainer } from '../container.js';
import { reconcile } from '../domain/reconcile.js';

let values: { fix: boolean; 'min-age-minutes': string; help: boolean };
try {
  ({ values } = parseArgs({
    options: {
      fix: { type: 'boolean', default: false },
      'min-age-minutes': { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const minAgeMinutes = Number(values['min-age-minutes']);
if (!Number.isFinite(minAgeMinutes) || minAgeMinutes < 0) {
  console.error('--min-age-minutes must be a number of minutes, 0 or more');
  process.exit(2);
}

const config = loadCliConfig();
const container = await createContainer(config, pino({ level: 'warn' }));
try {
  const reports = await reconcile({
    repository: container.repository,
    stores: container.stores,
    fix: values.fix,
    minAgeMs: minAgeMinutes * 60_000,
  });
  console.log(`database: ${describeDatabase(config.database)}`);
  for (const report of reports) {
    console.log(`${report.store}`);
    console.log(`  objects without rows: ${report.objectsWithoutRows.length}`);
    for (const key of report.objectsWithoutRows)
      console.log(`    ${key}${report.removed.includes(key) ? ' (removed)' : ''}`);
    console.log(`  rows without objects: ${report.rowsWithoutObjects.length}`);
    for (const key of report.rowsWithoutObjects) console.log(`    ${key}`);
    if (report.tooRecent.length > 0) {
      console.log(`  newer than ${minAgeMinutes} min, left alone: ${report.tooRecent.length}`);
    }
  }
  if (!values.fix && reports.some((r) => r.objectsWithoutRows.length > 0)) {
    console.log('Dry run: nothing was removed. Run again with --fix to remove the orphan objects.');
  }
  const remaining = reports.some(
    (r) => r.rowsWithoutObjects.length > 0 || r.objectsWithoutRows.length > r.removed.length,
  );
  process.exitCode = remaining ? 1 : 0;
} finally {
  await container.close();
}
