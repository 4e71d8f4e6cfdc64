// The entrypoints' flag handling, shared: --help prints and exits 0, a bad flag prints its message and
// exits 2 (the Go flag package's behaviour), anything else is a bug and is thrown.
import { FlagError } from './flag-parser.js';

export function parseOrExit<C>(parse: () => { config: C } | { help: string }): C {
  try {
    const parsed = parse();
    if ('help' in parsed) {
      process.stdout.write(parsed.help);
      process.exit(0);
    }
    return parsed.config;
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
