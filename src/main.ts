import { config as loadDotenv } from 'dotenv';
import { pino } from 'pino';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createContainer } from './container.js';

const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const logger = pino({ level: config.logLevel });

  let container;
  try {
    container = await createContainer(config, logger);
  } catch (error) {
    const what =
      config.database.driver === 'mysql'
        ? 'the MySQL database (DATABASE_URL)'
        : `the SQLite file ${config.database.file}`;
    console.error(`SnapStore could not start: ${what} is not usable: ${(error as Error).message}`);
    process.exit(1);
  }

  const lifecycle = { draining: false };
  const app = createApp({
    config,
    services: container.services,
    logger,
    imageOrigins: container.imageOrigins,
    uploadsDir: container.uploadsDir,
    lifecycle,
  });
  const server = app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info(
      { database: config.database.driver, storage: container.blobStore.description },
      `SnapStore listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
    );
  });
  server.requestTimeout = config.requestTimeoutMs;
  server.headersTimeout = Math.min(config.requestTimeoutMs, 60_000);
  server.on('error', (error) => {
    console.error(`SnapStore could not listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing uploads in flight');
    lifecycle.draining = true;
    setTimeout(() => {
      logger.error('uploads still in flight after the grace period; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    server.close(async () => {
      await container.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();
