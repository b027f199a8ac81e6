import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/** A server binary the project runs in development and tests, and builds with `go install` when missing. */
export interface GoBinary {
  /** The binary's file name, as `go install` writes it and as it is found on PATH. */
  name: string;
  /** The cached file's name before `-<version>` (default: name); for binaries with generic names. */
  cacheName?: string;
  /** false: never take a binary of that name from PATH (generic names like `server`). Default true. */
  searchPath?: boolean;
  /** Shown in messages, e.g. "the Temporal CLI". */
  label: string;
  /** `module/path/cmd/x@version`; its version is in the cached file's name. */
  module: string;
  version: string;
  /** An explicit binary from the environment, with the variable's name for messages. */
  explicit?: { path: string | undefined; variable: string };
  cacheDir: string;
  /** What to tell a person when there is no binary and no Go to build one. */
  howToGetOne: string;
  /** false: fail with howToGetOne instead of building (a test that cannot wait minutes). Default true. */
  build?: boolean;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter); // eslint-disable-line no-restricted-properties -- PATH lookup
  return dirs.map((d) => path.join(d, name)).find(isExecutable);
}

/**
 * Finds the binary: the explicit variable, else PATH, else the per-user cache, else builds it into the
 * cache once with `go install` (minutes the first time).
 */
export async function resolveGoBinary(
  b: GoBinary,
  log: (line: string) => void = console.error,
): Promise<string> {
  if (b.explicit?.path) {
    if (!isExecutable(b.explicit.path))
      throw new Error(`${b.explicit.variable}=${b.explicit.path} is not an executable file.`);
    return b.explicit.path;
  }
  const fromPath = b.searchPath === false ? undefined : onPath(b.name);
  if (fromPath) return fromPath;
  const cached = path.join(b.cacheDir, `${b.cacheName ?? b.name}-${b.version}`);
  if (isExecutable(cached)) return cached;
  const go = onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go || b.build === false) throw new Error(b.howToGetOne);
  await buildWithGo(b, go, cached, log);
  return cached;
}

async function buildWithGo(
  b: GoBinary,
  go: string,
  target: string,
  log: (line: string) => void,
): Promise<void> {
  mkdirSync(path.dirname(target), { recursive: true });
  // Build into a private folder and rename, so two processes building at once never see half a binary.
  const gobin = mkdtempSync(path.join(path.dirname(target), '.build-'));
  log(
    `Building ${b.label} ${b.version} with Go into ${path.dirname(target)} (first run only, takes a few minutes)…`,
  );
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', b.module], {
        env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' }, // eslint-disable-line no-restricted-properties -- child env
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`go install ${b.module} failed with exit code ${code}.\n${b.howToGetOne}`)),
      );
    });
    renameSync(path.join(gobin, b.name), target);
    log(`Built ${b.label} in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
}
