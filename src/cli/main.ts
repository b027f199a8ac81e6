/**
 * `tour-import`: the command line of the pipeline. Run with `npm run cli -- <command>` (or
 * `npx tsx src/cli/main.ts`). Exit codes are listed in ./errors.ts and docs/operations.md.
 */
import { CommanderError } from 'commander';
import { config } from '../config.js';
import { UnknownOperatorError } from '../operations/operators.js';
import { OperatorConfigError } from '../operators/errors.js';
import { startTracing, stopTracing } from '../telemetry/tracing.js';
import { CliContext } from './context.js';
import { CliError, EXIT } from './errors.js';
import { buildProgram } from './program.js';

export async function runCli(argv: string[]): Promise<number> {
  // The CLI's client starts imports: with tracing on, each is a trace from here (docs/operations.md: Traces).
  startTracing({ serviceName: 'tour-import-cli', endpoint: config().tracing.endpoint });
  const ctx = new CliContext();
  let exitCode: number = EXIT.ok;
  const program = buildProgram(ctx, {
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    setExitCode: (code) => void (exitCode = code),
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    exitCode = reportError(err);
  } finally {
    await ctx.close().catch(() => undefined);
    await stopTracing().catch(() => undefined);
  }
  return exitCode;
}

/** One human sentence on stderr and the exit code for it; commander has already printed its own. */
function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    const helpShown = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
    return helpShown || err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof CliError) {
    console.error(`tour-import: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof OperatorConfigError) {
    console.error(`tour-import: ${err.message}`);
    return EXIT.config;
  }
  if (err instanceof UnknownOperatorError) {
    console.error(`tour-import: ${err.message}`);
    return EXIT.usage;
  }
  const e = err as Error;
  console.error(`tour-import: ${e.message ?? String(err)}`);
  if (e.stack && ['debug', 'trace'].includes(config().logLevel)) console.error(e.stack);
  return EXIT.error;
}

// Exit explicitly: the Temporal client's native handles must not keep a finished command alive.
process.exit(await runCli(process.argv));
