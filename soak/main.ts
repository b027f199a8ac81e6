/**
 * `npm run soak -- --minutes N --seed S`: the seeded chaos soak (docs/development.md, "Soak"). Exit code
 * 0 only when every invariant held; 1 when one failed or the soak could not run; 2 on bad arguments;
 * 130 when interrupted. Whatever it started is stopped before it exits, in every one of those cases.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { config } from '../src/config.js';
import { parseSoakArgs, USAGE, UsageError, type SoakArgs } from './args.js';
import { Cleanup, endRestarts } from './processes.js';
import { removeRunData, runSoak } from './soak.js';

// The AWS SDK warns, on every client, that Node 20 nears its end of support (as in the tests).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

let args: SoakArgs | 'help';
try {
  args = parseSoakArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`soak: ${err.message}\n${USAGE}`);
  process.exit(2);
}
if (args === 'help') {
  console.log(USAGE);
  process.exit(0);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const runDir = path.join(config().dataDir, 'soak', `${stamp}-seed-${args.seed}`);
mkdirSync(runDir, { recursive: true });
const cleanup = new Cleanup();
const log = (line: string) => console.error(`soak: ${line}`);

let interrupted = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // ^C may reach this process twice at once (from the terminal, and relayed by npm): only a ^C
    // pressed again, later, means "quit without stopping what was started".
    if (interrupted && Date.now() - interrupted > 2_000) process.exit(130);
    if (interrupted) return;
    interrupted = Date.now();
    endRestarts();
    log(`${signal}: stopping everything the soak started (again to quit at once); run folder ${runDir}`);
    void cleanup.run(log).finally(() => process.exit(130));
  });
}

// npm passes a SIGTERM to its shell, which dies without passing it on: an orphaned soak stops itself.
const parent = process.ppid;
setInterval(() => !interrupted && process.ppid !== parent && process.emit('SIGTERM'), 1_000).unref();

let passed = false;
try {
  passed = await runSoak(args, runDir, cleanup);
} catch (err) {
  if (!interrupted) log(`the soak could not run: ${(err as Error).stack ?? String(err)}`);
  log(`seed ${args.seed}; logs in ${path.join(runDir, 'logs')}`);
}
if (!interrupted) {
  await cleanup.run(log);
  if (passed && !args.keep) removeRunData(runDir);
  process.exit(passed ? 0 : 1);
}
