// Structured JSON logging (winston). The controller's messages keep the original's wording where users grep.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info', component = 'kubefledged-controller'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { component },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
