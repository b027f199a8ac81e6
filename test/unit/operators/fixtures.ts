import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OperatorHttp, OperatorResponse, RequestOptions } from '../../../src/operators/http.js';

const dir = fileURLToPath(new URL('../../fixtures/operators/', import.meta.url));

export const fixtureText = (name: string): string => readFileSync(dir + name, 'utf8');
export const fixtureJson = (name: string): unknown => JSON.parse(fixtureText(name));

export interface Call {
  path: string;
  headers: Record<string, string>;
}

/**
 * A stand-in for the HTTP module that answers from a function, for adapter logic that spans several
 * requests (paging, drift). The real HTTP module is tested against a real server in http.test.ts.
 */
export function fakeHttp(
  answer: (path: string) => { status?: number; body: unknown; headers?: Record<string, string> },
): OperatorHttp & { calls: Call[] } {
  const calls: Call[] = [];
  const respond = (path: string, options: RequestOptions = {}): OperatorResponse<unknown> => {
    calls.push({ path, headers: options.headers ?? {} });
    const { status = 200, body, headers = {} } = answer(path);
    return { status, headers, body, url: `http://fake${path}` };
  };
  return {
    baseUrl: 'http://fake',
    calls,
    redact: (t) => t,
    getJson: async (path, options) => respond(path, options),
    getText: async (path, options) => respond(path, options) as OperatorResponse<string>,
    // The answer's body as JSON text, in one chunk (chunking is tested on the splitter itself).
    getStream: async (path, options) => {
      const res = respond(path, options);
      const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
      const body = (async function* () {
        yield Buffer.from(text);
      })();
      return { ...res, headers: { 'content-type': 'application/json', ...res.headers }, body };
    },
  };
}
