import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig, type Config } from '../config/config.js';

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
