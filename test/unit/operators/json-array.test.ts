import { describe, expect, it } from 'vitest';
import { OperatorPayloadError } from '../../../src/operators/errors.js';
import { jsonArrayElements } from '../../../src/operators/json-array.js';

const OPTIONS = { url: 'http://op.example/products', maxElementBytes: 1024 * 1024 };

async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function elements(text: string | Buffer, size = 1 << 20, options = OPTIONS): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const e of jsonArrayElements(chunked(text, size), options)) out.push(e);
  return out;
}

async function refusal(text: string | Buffer, size = 7, options = OPTIONS): Promise<string> {
  const err = await elements(text, size, options).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OperatorPayloadError);
  return (err as Error).message;
}

/** Products as an operator writes them: nesting, escapes, brackets in strings, non-ASCII text. */
const products = [
  { id: 'a', title: 'Zürich – "Altstadt" [by night] {with} fondue', media: [{ src: 'https://x/1.jpg' }] },
  { id: 'b', description: 'Back\\slash \\" and \u2028 line sep, 嵐山 竹林 🎋', options: [[], {}, [{}]] },
  { id: 'c', n: -12.5e-3, ok: true, none: null, empty: '' },
  'a string element, with , and ] inside',
  42,
  [1, [2, [3]]],
  null,
];

describe('the elements of a JSON array arriving in chunks', () => {
  const text = JSON.stringify(products, null, 2);

  it('are the elements JSON.parse sees, whatever the chunk boundaries (every split of every byte)', async () => {
    for (const size of [1, 2, 3, 5, 8, 13, 64, text.length])
      expect(await elements(text, size)).toEqual(products);
    expect(await elements(JSON.stringify(products), 1)).toEqual(products);
  });

  it('an empty array is complete with no elements; whitespace and a byte order mark around it are fine', async () => {
    expect(await elements('[]')).toEqual([]);
    expect(await elements(' \n\t[ \r\n ] \n')).toEqual([]);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"id":"x"}]')]);
    expect(await elements(bom, 1)).toEqual([{ id: 'x' }]);
  });

  it('yields each element as soon as it is complete, before the rest arrives', async () => {
    const seen: unknown[] = [];
    async function* slow() {
      yield Buffer.from('[{"id":"first"},');
      seen.push('second chunk asked for');
      yield Buffer.from('{"id":"second"}]');
    }
    for await (const e of jsonArrayElements(slow(), OPTIONS)) seen.push(e);
    expect(seen).toEqual([{ id: 'first' }, 'second chunk asked for', { id: 'second' }]);
  });

  it('a body cut off anywhere is an error, never a shorter array', async () => {
    for (let cut = 1; cut < text.length; cut += 17)
      expect(await refusal(text.slice(0, cut))).toMatch(/not a complete JSON array: it ends/);
    expect(await refusal(text.slice(0, text.lastIndexOf(']')))).toContain(
      `it ends after ${products.length} element(s) without its closing "]" (cut off?)`,
    );
    expect(await refusal('')).toContain('it is empty');
  });

  it('what is not one array is refused, saying why', async () => {
    expect(await refusal('{"products": []}')).toContain('it does not start with "["');
    expect(await refusal('[{"id":1}] [{"id":2}]')).toContain('there is more after its closing "]"');
    expect(await refusal(Buffer.concat([Buffer.from('[]'), Buffer.alloc(10)]))).toContain(
      'there is more after its closing "]"',
    );
    expect(await refusal('[{"id":1},]')).toContain('a "," is followed by "]"');
    expect(await refusal('[{"id":1},,{"id":2}]')).toContain('element 1 is missing');
    expect(await refusal('[{"id":1} {"id":2}]')).toContain('element 0 is followed by neither "," nor "]"');
    expect(await refusal('[{"id": 1, oops}]')).toMatch(/malformed JSON in element 0 of the array/);
    expect(await refusal('[tru]')).toMatch(/malformed JSON in element 0/);
  });

  it('an element larger than the cap is refused by its number, whatever its size in the chunks', async () => {
    const big = JSON.stringify([{ id: 'small' }, { id: 'big', text: 'x'.repeat(5000) }]);
    const options = { ...OPTIONS, maxElementBytes: 1000 };
    expect(await refusal(big, 100, options)).toContain('element 1 is larger than 1000 bytes');
    expect(await refusal(big, 10_000, options)).toContain('element 1 is larger than 1000 bytes');
  });

  it('names the document in its errors', async () => {
    expect(await refusal('[')).toContain('GET http://op.example/products');
  });
});
