import { config as loadDotenv } from 'dotenv';
import { pino } from 'pino';
import sharp from 'sharp';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createContainer } from './container.js';
import { listen } from './http/server.js';

const SHUTDOWN_GRACE_MS = 25_000;
const STARTUP_CHECK_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  // Every upload is a different image: libvips' operation cache would only hold memory.
  sharp.cache(false);
  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const logger = pino({
    level: config.logLevel,
    // Delete tokens and any session cookie a proxy adds must never reach the logs.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-delete-token"]'],
  });

  let container;
  try {
    container = await createContainer(config, logger, { startingServer: true });
  } catch (error) {
    const what =
      config.database.driver === 'mysql'
        ? 'the MySQL database (DATABASE_URL)'
        : `the SQLite file ${config.database.file}`;
    console.error(`SnapStore could not start: ${what} is not usable: ${(error as Error).message}`);
    process.exit(1);
  }

  // Fail fast, naming the fix, rather than serve a form whose uploads cannot be stored
  // (credentials not found, bucket missing or in another region, ACLs refused).
  try {
    await withTimeout(container.blobStore.check(), STARTUP_CHECK_MS, `no answer within ${STARTUP_CHECK_MS / 1000} s`);
  } catch (error) {
    console.error(
      `SnapStore could not start: the storage ${container.blobStore.description} is not usable: ${(error as Error).message}`,
    );
    await container.close();
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
  let server;
  try {
    server = await listen(app, config);
  } catch (error) {
    console.error(`SnapStore could not listen on ${config.host}:${config.port}: ${(error as Error).message}`);
    await container.close();
    process.exit(1);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { database: config.database.driver, storage: container.blobStore.description },
    `SnapStore listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
  );

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
    // Keep-alive connections busy at the signal go idle once their answer is sent; close them
    // then, or the server waits for each client to hang up (browsers keep them for minutes).
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 250).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();
