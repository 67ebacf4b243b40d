import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig, type Config, type DatabaseConfig } from '../config/config.js';

/** The configuration the app itself would use (environment and .env), or exit 2 saying why. */
export function loadCliConfig(): Readonly<Config> {
  loadDotenv({ quiet: true });
  try {
    return loadConfig(process.env);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(2);
  }
}

/** Where the database is, for people reading CLI output: never the password. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.driver === 'sqlite') return `SQLite ${database.file}`;
  const url = new URL(database.url);
  return `MySQL ${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.pathname}`;
}
