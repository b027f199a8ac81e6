import { OperatorPayloadError } from './errors.js';

/**
 * The elements of one top-level JSON array, each as it is complete, while the text is still arriving
 * in chunks: OCTO's `GET /products` answers every product in one array, too large to hold whole.
 *
 * A splitter, not a parser: it finds where each element begins and ends (nesting depth, strings and
 * their escapes) and hands the element's bytes to JSON.parse, the hardened native parser, which judges
 * them. The structural characters are ASCII and every byte of a multi-byte UTF-8 character is 0x80 or
 * more, so scanning bytes never splits a character and chunk boundaries fall anywhere. Only a closed
 * array with nothing but whitespace after it is complete: a body that ends early (a cut connection, a
 * proxy's truncation) is an error, never a shorter listing — absences in a listing remove tours.
 */

export interface JsonArrayOptions {
  /** Names the document in errors. */
  url: string;
  /** An element larger than this is refused (the memory one element may take). */
  maxElementBytes: number;
}

const enum State {
  /** Before the opening bracket. */
  Start,
  /** After `[` or `,`: an element or (after `[` only) the closing bracket comes next. */
  BeforeElement,
  /** Inside an element. */
  InElement,
  /** After an element: `,` or `]`. */
  AfterElement,
  /** After the closing bracket: whitespace only. */
  Done,
}

const [OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = [0x5b, 0x5d, 0x7b, 0x7d];
const [QUOTE, BACKSLASH, COMMA] = [0x22, 0x5c, 0x2c];
/** A UTF-8 byte order mark, which some servers put before the text. */
const BOM = [0xef, 0xbb, 0xbf];

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export async function* jsonArrayElements(
  chunks: AsyncIterable<Buffer>,
  options: JsonArrayOptions,
): AsyncGenerator<unknown> {
  const s = new Splitter(options);
  for await (const chunk of chunks) yield* s.push(chunk);
  s.end();
}

/** The next quote or backslash of a chunk from a position on, each searched for once per stretch. */
class StringSkipper {
  private quote = -1;
  private backslash = -1;
  constructor(private readonly chunk: Buffer) {}

  /** The index of the next quote or backslash at or after `from`, or the chunk's length. */
  nextSpecial(from: number): number {
    if (this.quote < from) this.quote = this.find(QUOTE, from);
    if (this.backslash < from) this.backslash = this.find(BACKSLASH, from);
    return Math.min(this.quote, this.backslash);
  }

  private find(byte: number, from: number): number {
    const at = this.chunk.indexOf(byte, from);
    return at < 0 ? this.chunk.length : at;
  }
}

/** The splitter's state between chunks; `push` returns the elements a chunk completed. */
class Splitter {
  private state = State.Start;
  private afterComma = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** A scalar element (a number, true…): it ends at a delimiter rather than a bracket. */
  private scalar = false;
  private parts: Buffer[] = [];
  private size = 0;
  private index = 0;
  private offset = 0;

  constructor(private readonly o: JsonArrayOptions) {}

  push(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    const skip = new StringSkipper(chunk);
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.state !== State.InElement) {
        if (this.structural(b, this.offset + i)) start = i;
        continue;
      }
      // Inside a string only a quote or a backslash matters: jump to the next one (descriptions are long).
      if (this.inString && !this.escaped && b !== QUOTE && b !== BACKSLASH) {
        i = skip.nextSpecial(i) - 1;
        continue;
      }
      const end = this.scan(b);
      if (end === 'continue') continue;
      // A scalar ends just before its delimiter, which is then read again as what follows it.
      this.take(chunk.subarray(start, end === 'before' ? i : i + 1));
      out.push(this.finish());
      this.state = State.AfterElement;
      if (end === 'before') i--;
    }
    if (this.state === State.InElement) this.take(chunk.subarray(start));
    this.offset += chunk.length;
    return out;
  }

  /** The input ended: complete only after the closing bracket. */
  end(): void {
    if (this.state === State.Done) return;
    this.fail(
      this.state === State.Start
        ? 'it is empty'
        : `it ends after ${this.index} element(s) without its closing "]" (cut off?)`,
    );
  }

  /** A byte between elements (at `at` in the whole text); true when it begins an element. */
  private structural(b: number, at: number): boolean {
    if (isSpace(b)) return false;
    switch (this.state) {
      case State.Start:
        if (at < BOM.length && b === BOM[at]) return false;
        if (b !== OPEN_ARRAY) this.fail('it does not start with "["');
        this.state = State.BeforeElement;
        return false;
      case State.BeforeElement:
        if (b === CLOSE_ARRAY && this.afterComma) this.fail('a "," is followed by "]"');
        if (b === CLOSE_ARRAY) this.state = State.Done;
        else if (b === COMMA) this.fail(`element ${this.index} is missing`);
        else this.begin(b);
        return b !== CLOSE_ARRAY;
      case State.AfterElement:
        if (b === CLOSE_ARRAY) this.state = State.Done;
        else if (b === COMMA) [this.state, this.afterComma] = [State.BeforeElement, true];
        else this.fail(`element ${this.index - 1} is followed by neither "," nor "]"`);
        return false;
      default:
        return this.fail('there is more after its closing "]"');
    }
  }

  private begin(b: number): void {
    this.state = State.InElement;
    this.afterComma = false;
    this.parts = [];
    this.size = 0;
    this.scalar = b !== OPEN_OBJECT && b !== OPEN_ARRAY && b !== QUOTE;
    this.inString = b === QUOTE;
    this.escaped = false;
    this.depth = b === OPEN_OBJECT || b === OPEN_ARRAY ? 1 : 0;
  }

  /** One byte inside an element: whether the element ends here ('after' it, or 'before' a delimiter). */
  private scan(b: number): 'continue' | 'after' | 'before' {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === QUOTE) {
        this.inString = false;
        if (this.depth === 0) return 'after';
      }
      return 'continue';
    }
    if (this.scalar) return b === COMMA || b === CLOSE_ARRAY || isSpace(b) ? 'before' : 'continue';
    if (b === QUOTE) this.inString = true;
    else if (b === OPEN_OBJECT || b === OPEN_ARRAY) this.depth++;
    else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      this.depth--;
      if (this.depth === 0) return 'after';
    }
    return 'continue';
  }

  private take(part: Buffer): void {
    this.size += part.length;
    if (this.size > this.o.maxElementBytes)
      this.fail(`element ${this.index} is larger than ${this.o.maxElementBytes} bytes`);
    this.parts.push(part);
  }

  private finish(): unknown {
    const text = Buffer.concat(this.parts, this.size).toString('utf8');
    this.parts = [];
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new OperatorPayloadError(
        this.o.url,
        `malformed JSON in element ${this.index} of the array (${(err as Error).message})`,
        text,
      );
    } finally {
      this.index++;
    }
  }

  private fail(problem: string): never {
    throw new OperatorPayloadError(this.o.url, `not a complete JSON array: ${problem}`);
  }
}
