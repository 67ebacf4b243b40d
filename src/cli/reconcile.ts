/**
 * npm run reconcile [-- --fix] [--min-age-minutes=N]
 *
 * Lists objects without rows and rows without objects in every store the configuration uses
 * (the bucket and the local copy folder). Dry run by default; --fix removes orphan objects
 * older than --min-age-minutes (default 10), so uploads in progress are never touched.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadCliConfig } from './load-cli-config.js';
import { createContainer } from '../container.js';
import { reconcile } from '../domain/reconcile.js';

const { values } = parseArgs({
  options: { fix: { type: 'boolean', default: false }, 'min-age-minutes': { type: 'string', default: '10' } },
});
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
} finally {
  await container.close();
}
