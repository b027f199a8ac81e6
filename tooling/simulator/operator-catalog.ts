import type { MonotonicClock } from './clock.js';
import { hash, hashString, mix32, unmix32 } from './hash.js';
import { generateContent, imageCaption, type TourContent } from './text.js';
import type { Dialect, OperatorSpec } from './types.js';

/** Base tours were "last updated" one per minute from here on, long before any mutation. */
const BASE_EPOCH = Date.UTC(2024, 0, 1);
const SLOT_MS = 60_000;

interface CatalogImage {
  id: string;
  caption: string;
}

export interface TourRecord extends TourContent {
  index: number;
  code: string;
  updatedAt: number;
  removed: boolean;
  rev: number;
  images: CatalogImage[];
}

/** Mutations only: the catalog itself is regenerated from the seed on every read. */
interface Overlay {
  rev: number;
  updatedAt: number;
  removed: boolean;
  /** Slot → image id, for images replaced under a new URL. */
  images: Map<number, string>;
  /** Content set by a test (e.g. a price no table can store), over the generated content. */
  content?: Partial<TourContent>;
}

export interface FeedKey {
  t: number;
  code: string;
}

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One simulated operator's catalog: its tours generated from a seed, with the changes a test or the
 * demo made over them (added, updated, removed, images replaced), served by the dialect routes.
 */
export class OperatorCatalog {
  readonly seed: number;
  private readonly codeKey: number;
  private readonly poolSize: number;
  private added = 0;
  private overlay = new Map<number, Overlay>();
  /** (time, index) of every mutation in time order; superseded entries are skipped on read. */
  private changeLog: { t: number; index: number }[] = [];
  /** Image id → revision and time, for images whose bytes were replaced under the same URL. */
  private imageRevs = new Map<string, { rev: number; at: number }>();
  private uniqueImageAt = new Map<string, number>();
  private version = 0;
  private sortedCache?: { version: number; since: number; values: Uint32Array };

  constructor(
    private readonly spec: OperatorSpec,
    private readonly clock: MonotonicClock,
  ) {
    this.seed = typeof spec.seed === 'number' ? spec.seed >>> 0 : hashString(spec.seed);
    this.codeKey = hash(this.seed, 'codes');
    const avg = (spec.imagesPerTour.min + spec.imagesPerTour.max) / 2;
    // Fewer distinct images than image slots, so several tours share some images.
    this.poolSize = Math.max(1, Math.round(spec.tourCount * avg * 0.7));
  }

  get dialect(): Dialect {
    return this.spec.dialect;
  }

  total(): number {
    return this.spec.tourCount + this.added;
  }

  codeOf(index: number): string {
    const v = mix32((index ^ this.codeKey) >>> 0);
    return formatCode(this.spec.dialect, v);
  }

  indexOf(code: string): number | undefined {
    const v = parseCode(this.spec.dialect, code);
    if (v === undefined) return undefined;
    const index = (unmix32(v) ^ this.codeKey) >>> 0;
    return index < this.total() ? index : undefined;
  }

  baseTime(index: number): number {
    return BASE_EPOCH + index * SLOT_MS + (hash(this.seed, index, 't') % (SLOT_MS - 1000));
  }

  updatedAt(index: number): number {
    return this.overlay.get(index)?.updatedAt ?? this.baseTime(index);
  }

  isRemoved(index: number): boolean {
    return this.overlay.get(index)?.removed ?? false;
  }

  tour(index: number): TourRecord {
    const o = this.overlay.get(index);
    const rev = o?.rev ?? 0;
    const { min, max } = this.spec.imagesPerTour;
    const count = min + (hash(this.seed, index, 'nimg') % (max - min + 1));
    const images: CatalogImage[] = [];
    for (let slot = 0; slot < count; slot++) {
      const id = o?.images.get(slot) ?? `p${hash(this.seed, index, 'img', slot) % this.poolSize}`;
      images.push({ id, caption: imageCaption(this.seed, index, slot) });
    }
    return {
      ...generateContent(this.seed, index, rev),
      ...o?.content,
      index,
      code: this.codeOf(index),
      updatedAt: this.updatedAt(index),
      removed: o?.removed ?? false,
      rev,
      images,
    };
  }

  /** The live tour for a code, or a SimError(404). */
  activeIndex(code: string): number {
    const index = this.indexOf(code);
    if (index === undefined || this.isRemoved(index)) throw new SimError(404, `Unknown tour ${code}`);
    return index;
  }

  /** A new revision of the tour; `content` replaces generated fields (a test's hostile values). */
  change(code: string, content?: Partial<TourContent>): TourRecord {
    const index = this.activeIndex(code);
    const o = this.touch(index);
    o.rev += 1;
    if (content) o.content = { ...o.content, ...content };
    return this.tour(index);
  }

  remove(code: string): TourRecord {
    const index = this.activeIndex(code);
    this.touch(index).removed = true;
    return this.tour(index);
  }

  /** A removed tour offered again (an operator re-activating it): its content as before, stamped now. */
  restore(code: string): TourRecord {
    const index = this.indexOf(code);
    if (index === undefined || !this.isRemoved(index)) throw new SimError(404, `No removed tour ${code}`);
    this.touch(index).removed = false;
    return this.tour(index);
  }

  add(count: number): TourRecord[] {
    const out: TourRecord[] = [];
    for (let k = 0; k < count; k++) {
      const index = this.total();
      this.added += 1;
      this.touch(index);
      out.push(this.tour(index));
    }
    return out;
  }

  /**
   * Same URL (default): the shared image's bytes change for every tour that uses it, as when an
   * operator re-uploads a photo. New URL: this tour alone points at a fresh image.
   */
  replaceImage(code: string, slot: number, newUrl: boolean): TourRecord {
    const index = this.activeIndex(code);
    const current = this.tour(index).images[slot];
    if (!current) throw new SimError(404, `Tour ${code} has no image ${slot}`);
    const o = this.touch(index);
    if (newUrl) {
      const id = `u${index}x${slot}r${o.rev}t${o.updatedAt}`;
      o.images.set(slot, id);
      this.uniqueImageAt.set(id, o.updatedAt);
    } else {
      const prev = this.imageRevs.get(current.id)?.rev ?? 0;
      this.imageRevs.set(current.id, { rev: prev + 1, at: o.updatedAt });
    }
    return this.tour(index);
  }

  /** The tour shows another of the operator's images in this slot (a photo shared with other tours). */
  useImage(code: string, slot: number, imageId: string): TourRecord {
    const index = this.activeIndex(code);
    if (!this.tour(index).images[slot]) throw new SimError(404, `Tour ${code} has no image ${slot}`);
    if (!this.image(imageId)) throw new SimError(404, `No image ${imageId}`);
    this.touch(index).images.set(slot, imageId);
    return this.tour(index);
  }

  /** Bytes identity and Last-Modified of an image, or undefined when no such image exists. */
  image(id: string): { rev: number; at: number } | undefined {
    const pool = /^p(\d+)$/.exec(id);
    if (pool)
      return Number(pool[1]) < this.poolSize
        ? (this.imageRevs.get(id) ?? { rev: 0, at: BASE_EPOCH })
        : undefined;
    const at = this.uniqueImageAt.get(id);
    return at === undefined ? undefined : { rev: 0, at };
  }

  reset(): void {
    this.added = 0;
    this.overlay.clear();
    this.changeLog = [];
    this.imageRevs.clear();
    this.uniqueImageAt.clear();
    this.version += 1;
  }

  /** Dialect A feed: tours (including tombstones) strictly after `after`, by (updatedAt, code). */
  feed(after: FeedKey, count: number): TourRecord[] {
    const out: TourRecord[] = [];
    const isAfter = (t: number, code: string) => t > after.t || (t === after.t && code > after.code);
    const base = this.spec.tourCount;
    let lo = 0;
    let hi = base;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isAfter(this.baseTime(mid), this.codeOf(mid))) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < base && out.length < count; i++) {
      if (!this.overlay.has(i)) out.push(this.tour(i));
    }
    let k = 0;
    while (k < this.changeLog.length && this.changeLog[k].t <= after.t) k++;
    for (; k < this.changeLog.length && out.length < count; k++) {
      const { t, index } = this.changeLog[k];
      if (this.overlay.get(index)?.updatedAt === t && isAfter(t, this.codeOf(index)))
        out.push(this.tour(index));
    }
    return out;
  }

  /** Dialect B: live tours ordered by code, optionally only those updated at or after `since`. */
  sortedActive(since = 0): Uint32Array {
    if (this.sortedCache?.version === this.version && this.sortedCache.since === since)
      return this.sortedCache.values;
    const values: number[] = [];
    for (let i = 0; i < this.total(); i++) {
      if (!this.isRemoved(i) && this.updatedAt(i) >= since) values.push(mix32((i ^ this.codeKey) >>> 0));
    }
    const sorted = Uint32Array.from(values).sort();
    this.sortedCache = { version: this.version, since, values: sorted };
    return sorted;
  }

  indexOfValue(v: number): number {
    return (unmix32(v) ^ this.codeKey) >>> 0;
  }

  /** Dialect C: every live tour in catalog order. */
  *active(): Generator<TourRecord> {
    for (let i = 0; i < this.total(); i++) if (!this.isRemoved(i)) yield this.tour(i);
  }

  state() {
    let removed = 0;
    let changed = 0;
    for (const o of this.overlay.values()) {
      if (o.removed) removed += 1;
      else if (o.rev > 0) changed += 1;
    }
    return {
      tourCount: this.total(),
      baseTourCount: this.spec.tourCount,
      added: this.added,
      active: this.total() - removed,
      removed,
      changed,
      imagesReplaced: this.imageRevs.size + this.uniqueImageAt.size,
      imagePoolSize: this.poolSize,
    };
  }

  private touch(index: number): Overlay {
    let o = this.overlay.get(index);
    if (!o) {
      o = { rev: 0, updatedAt: 0, removed: false, images: new Map() };
      this.overlay.set(index, o);
    }
    o.updatedAt = this.clock.now();
    this.changeLog.push({ t: o.updatedAt, index });
    this.version += 1;
    return o;
  }
}

function formatCode(dialect: Dialect, v: number): string {
  const hex = v.toString(16).toUpperCase().padStart(8, '0');
  if (dialect === 'A') return `VP${hex}`;
  if (dialect === 'B') return `P${hex}`;
  // OCTO ids are the supplier's own strings, often UUIDs: this one is UUID-shaped and reversible.
  if (dialect === 'D') return `${hex.toLowerCase()}-0c70-4d00-8000-${hex.toLowerCase()}0000`;
  return String(v);
}

function parseCode(dialect: Dialect, code: string): number | undefined {
  const m =
    dialect === 'A'
      ? /^VP([0-9A-F]{8})$/.exec(code)
      : dialect === 'B'
        ? /^P([0-9A-F]{8})$/.exec(code)
        : dialect === 'D'
          ? /^([0-9a-f]{8})-0c70-4d00-8000-[0-9a-f]{12}$/.exec(code)
          : /^(\d{1,10})$/.exec(code);
  if (!m) return undefined;
  const v = dialect === 'C' ? Number(m[1]) : parseInt(m[1], 16);
  // Only the canonical spelling names a tour (no leading zeros in dialect C ids).
  return v <= 0xffffffff && formatCode(dialect, v) === code ? v : undefined;
}
