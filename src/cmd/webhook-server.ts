#!/usr/bin/env node
// kubefledged-webhook-server: flags -> wiring -> serve until SIGTERM/SIGINT.
// Exit codes: 0 after a clean stop (or --help, or --init-server done), 2 on a bad flag (as Go's flag
// package), 1 when the server cannot start.

import { createLogger } from '../operator/logger.js';
import { FlagError } from '../config/flag-parser.js';
import { parseWebhookConfig, WEBHOOK_PROGRAM } from '../webhook/webhook-config.js';
import { runInitServer, startWebhook } from '../webhook/webhook-app.js';

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseWebhookConfig>;
  try {
    parsed = parseWebhookConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${WEBHOOK_PROGRAM}: ${err.message}\nRun '${WEBHOOK_PROGRAM} --help' for the list of flags.\n`);
      return 2;
    }
    throw err;
  }
  if ('help' in parsed) {
    process.stdout.write(parsed.help);
    return 0;
  }
  const config = parsed.config;
  const logger = createLogger(config.logLevel, WEBHOOK_PROGRAM);
  try {
    if (config.initServer) {
      await runInitServer(config, { logger });
      return 0;
    }
    const running = await startWebhook(config, { logger });
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        logger.info(`Received ${signal}; shutting down`);
        resolve();
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
    await running.stop();
    return 0;
  } catch (err) {
    logger.error(`${WEBHOOK_PROGRAM} failed: ${(err as Error).message}`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Let the logger flush, then leave even if a keep-alive socket lingers.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`${WEBHOOK_PROGRAM}: ${String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  },
);
