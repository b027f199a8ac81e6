import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { SEARCH_ATTRIBUTES } from '../../src/constants.js';
import { PRODUCT_DYNAMIC_CONFIG } from '../../tooling/servers/dev-server.js';
import { TEMPORAL_SERVER_VERSION } from '../../tooling/servers/temporal-server.js';

/**
 * docker-compose.yml is for users (no docker engine runs here), so it is checked the way compose
 * itself reads it: `docker compose config` validates the schema, interpolation and anchors.
 */
const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

const HOW_TO_GET_DOCKER =
  'This test needs the docker client with its compose plugin (`docker compose`); no docker engine. ' +
  'Debian: `apt-get install docker.io` (or docker-ce-cli) for the client, and for the plugin either ' +
  '`docker-compose-plugin` from the Docker apt repository or a build with Go: ' +
  '`GOBIN=/tmp/compose go install github.com/docker/compose/v2/cmd@v2.29.7 && ' +
  'install -D /tmp/compose/cmd ~/.docker/cli-plugins/docker-compose`.';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  container_name?: string;
  ports?: { target: number; published?: string; host_ip?: string }[];
  environment?: Record<string, string | null>;
  volumes?: { type: string; source?: string; target: string }[];
  depends_on?: Record<string, { condition: string }>;
}

/** The one setting compose requires (no default: a stack must not start with a guessable password). */
const PASSWORD = 'test-password-0f3a';

async function compose(args: string[], settings: Record<string, string> = { POSTGRES_PASSWORD: PASSWORD }) {
  try {
    // Interpolation must work from a clean environment: only PATH, HOME and DOCKER_CONFIG (where the plugin
    // lives) pass, and the settings given.
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      DOCKER_CONFIG: process.env['DOCKER_CONFIG'],
      ...settings,
    };
    const { stdout } = await run('docker', ['compose', ...args], { cwd: root, env, timeout: 30_000 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`The docker CLI is not installed. ${HOW_TO_GET_DOCKER}`);
    if (/unknown command|is not a docker command|unknown (shorthand )?flag/i.test(e.stderr ?? ''))
      throw new Error(`The docker compose plugin is missing. ${HOW_TO_GET_DOCKER}\n${e.stderr}`);
    throw new Error(`docker compose ${args.join(' ')} failed:\n${e.stderr ?? e.message}`);
  }
}

let resolved: Promise<Record<string, ComposeService>> | undefined;
/** The file as compose resolves it (anchors merged, variables interpolated), read once. */
function services(): Promise<Record<string, ComposeService>> {
  return (resolved ??= compose(['config']).then(
    (out) => (parse(out) as { services: Record<string, ComposeService> }).services,
  ));
}

describe('docker-compose.yml', () => {
  it('is valid for docker compose', async () => {
    await compose(['config', '--quiet']);
  });

  it('refuses to start without POSTGRES_PASSWORD, and uses the one given everywhere', async () => {
    await expect(compose(['config', '--quiet'], {})).rejects.toThrow(/POSTGRES_PASSWORD/);
    expect(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')).not.toMatch(/change-me/);
    const all = await services();
    expect(all['postgresql']!.environment?.['POSTGRES_PASSWORD']).toBe(PASSWORD);
    expect(all['temporal']!.environment?.['POSTGRES_PWD']).toBe(PASSWORD);
    for (const name of ['migrate', 'worker-tours', 'worker-images', 'api'])
      expect(new URL(all[name]!.environment?.['DATABASE_URL'] ?? '').password, name).toBe(PASSWORD);
  });

  it('passes the API credentials to the api only, leaving their check to the API itself', async () => {
    const creds = { API_TOKEN: 'tok-1', API_BASIC_USER: 'ops', API_BASIC_PASSWORD: 'pw-1' };
    const out = await compose(['config'], { POSTGRES_PASSWORD: PASSWORD, ...creds });
    const all = (parse(out) as { services: Record<string, ComposeService> }).services;
    expect(all['api']!.environment).toMatchObject(creds);
    for (const name of ['migrate', 'worker-tours', 'worker-images'])
      expect(Object.keys(all[name]!.environment ?? {}), name).not.toContain('API_TOKEN');
    // Unset, compose passes them empty (it checks `:?` variables for every command, even `logs`).
    expect((await services())['api']!.environment?.['API_TOKEN']).toBe('');
  });

  it('passes the notification sinks to the processes that send notifications', async () => {
    const sinks = {
      NOTIFY_SLACK_WEBHOOK_URL: 'https://hooks.example/x',
      NOTIFY_WEBHOOK_URL: 'https://ops.example/n',
    };
    const out = await compose(['config'], {
      POSTGRES_PASSWORD: PASSWORD,
      ...sinks,
      NOTIFY_WEBHOOK_SECRET: 's',
    });
    const all = (parse(out) as { services: Record<string, ComposeService> }).services;
    for (const name of ['worker-tours', 'api']) expect(all[name]!.environment, name).toMatchObject(sinks);
    expect(Object.keys(all['worker-images']!.environment ?? {})).not.toContain('NOTIFY_WEBHOOK_SECRET');
  });

  it('publishes only the API beyond this host', async () => {
    const all = await services();
    const published = Object.entries(all).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => ({ port: `${name}:${p.target}`, hostIp: p.host_ip ?? 'all interfaces' })),
    );
    // The Web UI and the frontend have no authentication of their own: this host only.
    for (const port of ['temporal-ui:8080', 'temporal:7233'])
      expect(published.map((p) => p.port)).toContain(port);
    for (const { port, hostIp } of published)
      expect(hostIp, port).toBe(port === 'api:3000' ? 'all interfaces' : '127.0.0.1');
  });

  it('has the API listen on every interface of its container, so that its published port answers', async () => {
    const { environment = {} } = (await services())['api']!;
    expect(environment['API_BIND']).toBe('0.0.0.0');
    // As the API process reads its environment: nothing else there decides otherwise.
    const env = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, v ?? undefined]));
    expect(loadConfig(env).apiBind).toBe('0.0.0.0');
  });

  it('runs the whole stack, with scalable workers', async () => {
    const all = await services();
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'worker-tours', 'worker-images', 'api'])
      expect(Object.keys(all), name).toContain(name);

    for (const name of ['worker-tours', 'worker-images']) {
      const s = all[name]!;
      // --scale needs containers without fixed names and host ports.
      expect(s.container_name, name).toBeUndefined();
      expect(s.ports ?? [], name).toEqual([]);
      expect(s.environment?.['TEMPORAL_ADDRESS'], name).toBe('temporal:7233');
      expect(s.environment?.['DATABASE_URL'], name).toMatch(/^postgres:\/\/.+@postgresql:5432\//);
      expect(s.volumes?.find((v) => v.target === s.environment?.['BLOB_DIR'])?.source, name).toBe('blobs');
    }
    expect(all['worker-tours']!.environment?.['WORKFLOW_BUNDLE_PATH']).toBe('/app/dist/workflow-bundle.js');
    expect(all['worker-images']!.environment).toMatchObject({ MALLOC_ARENA_MAX: '2' });
    // Empty unless set: the worker sizes its pool and permits from the container's limits (an empty value
    // counts as unset there, see test/integration/image-worker-sizing.test.ts).
    expect(all['worker-images']!.environment).toMatchObject({
      UV_THREADPOOL_SIZE: '',
      IMAGE_WORKER_MAX_RESIZES: '',
    });
    expect(all['api']!.ports?.map((p) => p.target)).toContain(3000);
    expect(all['temporal-ui']!.ports?.map((p) => p.target)).toContain(8080);
  });

  it('pins every image tag', async () => {
    const all = await services();
    for (const [name, s] of Object.entries(all)) {
      if (s.build) continue; // the project's own image
      expect(s.image, name).toMatch(/:\d[\w.-]*$/);
    }
  });

  it('gives the Temporal server the same settings as the dev servers the project starts', async () => {
    const temporal = (await services())['temporal']!;
    const mount = temporal.volumes?.find((v) => v.target.startsWith('/etc/temporal/config/dynamicconfig/'));
    expect(mount, 'dynamic config file mounted').toBeDefined();
    expect(`/etc/temporal/${temporal.environment?.['DYNAMIC_CONFIG_FILE_PATH']}`).toBe(mount!.target);
    const file = parse(readFileSync(mount!.source!, 'utf8')) as Record<string, { value: unknown }[]>;
    const fromFile = Object.entries(file).map(([key, [first]]) => `${key}=${String(first.value)}`);
    expect(fromFile.sort()).toEqual([...PRODUCT_DYNAMIC_CONFIG].sort());
  });

  it('runs the real server of the version `npm run temporal:server` builds, after a schema job', async () => {
    const all = await services();
    const version = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    expect(all['temporal']!.image).toBe(`temporalio/server:${version}`);
    expect(all['temporal']!.depends_on?.['temporal-schema']?.condition).toBe(
      'service_completed_successfully',
    );
    expect(all['temporal-schema']!.image).toBe(`temporalio/admin-tools:${version}`);
    const schemaJob = (all['temporal-schema']!.command ?? []).join('\n');
    for (const schema of ['postgresql/v12/temporal', 'postgresql/v12/visibility'])
      expect(schemaJob).toContain(schema);
    for (const step of ['create-database', 'setup-schema', 'update-schema'])
      expect(schemaJob).toContain(step);
    for (const s of Object.values(all)) expect(s.image ?? '').not.toMatch(/auto-setup/);
  });

  it('registers every search attribute the workflows set', async () => {
    const all = await services();
    const setup = (all['temporal-setup']!.command ?? []).join('\n');
    for (const name of Object.values(SEARCH_ATTRIBUTES)) expect(setup).toContain(name);
    expect(setup).toContain('--type Keyword');
  });
});
