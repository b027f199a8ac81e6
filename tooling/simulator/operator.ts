import type { ServerResponse } from 'node:http';
import { OperatorCatalog, type TourRecord } from './operator-catalog.js';
import type { MonotonicClock } from './clock.js';
import { RateWindow, type DialectHooks } from './deliver.js';
import { FaultBook } from './faults.js';
import { hash } from './hash.js';
import type { ImageGenerator } from './images.js';
import type { TourContent } from './text.js';
import {
  resolveCredentials,
  type Credentials,
  type Dialect,
  type Faults,
  type FaultsInput,
  type OperatorSpec,
  type RouteKey,
} from './types.js';

/** Named image sizes; `original` is the configured full size. Used by all dialects' URLs. */
export const IMAGE_FORMATS = { original: 0, large: 1200, medium: 800, thumb: 200 } as const;
export type ImageFormat = keyof typeof IMAGE_FORMATS;

export interface OperatorInfo {
  id: string;
  dialect: Dialect;
  baseUrl: string;
  /** A, B and D: { apiKey }. C: { apiKey (the HMAC secret), channelId, marketplaceId }. */
  credentials: Credentials;
  /** Whether the per-product endpoint is served (always true for C). */
  detailEndpoint: boolean;
}

/**
 * One simulated operator: its generated catalog, the faults it is told to show, and the admin
 * operations tests and the demo use (the same methods back the HTTP admin API).
 */
export class SimOperator {
  readonly catalog: OperatorCatalog;
  readonly faults: FaultBook;
  readonly rate: RateWindow;
  readonly credentials: Required<Credentials>;
  /** Set when the server is listening; URLs in payloads are absolute. */
  origin = '';
  hooks!: DialectHooks;

  constructor(
    readonly spec: OperatorSpec,
    readonly clock: MonotonicClock,
    readonly images: ImageGenerator,
    readonly held: Set<ServerResponse>,
  ) {
    this.catalog = new OperatorCatalog(spec, clock);
    this.faults = new FaultBook(spec.faults);
    this.rate = new RateWindow(spec.rateLimit);
    this.credentials = resolveCredentials(spec);
  }

  get id(): string {
    return this.spec.id;
  }

  get dialect(): Dialect {
    return this.spec.dialect;
  }

  get prefix(): string {
    return `/ops/${this.spec.id}`;
  }

  get baseUrl(): string {
    return `${this.origin}${this.prefix}`;
  }

  info(): OperatorInfo {
    const { apiKey, channelId, marketplaceId } = this.credentials;
    const credentials = this.dialect === 'C' ? { apiKey, channelId, marketplaceId } : { apiKey };
    return {
      id: this.id,
      dialect: this.dialect,
      baseUrl: this.baseUrl,
      credentials,
      detailEndpoint: this.servesDetail,
    };
  }

  /**
   * C always has show.xml and D (OCTO) GET /products/{id}; A and B serve their per-product endpoint only
   * when told to.
   */
  get servesDetail(): boolean {
    return this.dialect === 'C' || this.dialect === 'D' || this.spec.detailEndpoint;
  }

  imageUrl(id: string, format: ImageFormat = 'original'): string {
    const w = IMAGE_FORMATS[format];
    return `${this.baseUrl}/img/${id}.jpg${w && w < this.spec.imageWidth ? `?w=${w}` : ''}`;
  }

  /** Width and height of an image served at the requested width (never upscaled). */
  imageSize(width?: number): { width: number; height: number } {
    const { imageWidth, imageHeight } = this.spec;
    const w = width && width < imageWidth ? Math.max(16, width) : imageWidth;
    return { width: w, height: Math.max(1, Math.round((w * imageHeight) / imageWidth)) };
  }

  imageSeed(id: string, rev: number): number {
    return hash(this.catalog.seed, 'image', id, rev);
  }

  change(code: string, content?: Partial<TourContent>): TourRecord {
    return this.catalog.change(code, content);
  }

  remove(code: string): TourRecord {
    return this.catalog.remove(code);
  }

  restore(code: string): TourRecord {
    return this.catalog.restore(code);
  }

  add(count: number): TourRecord[] {
    return this.catalog.add(count);
  }

  replaceImage(code: string, slot: number, options: { newUrl?: boolean } = {}): TourRecord {
    return this.catalog.replaceImage(code, slot, options.newUrl ?? false);
  }

  useImage(code: string, slot: number, imageId: string): TourRecord {
    return this.catalog.useImage(code, slot, imageId);
  }

  /** The tour as the simulator holds it (also for removed tours), or undefined for unknown codes. */
  tour(code: string): TourRecord | undefined {
    const index = this.catalog.indexOf(code);
    return index === undefined ? undefined : this.catalog.tour(index);
  }

  /** Codes of live tours in catalog order: the truth an importer should end up with. */
  activeCodes(): string[] {
    return [...this.catalog.active()].map((t) => t.code);
  }

  setFaults(faults: FaultsInput): Faults {
    return this.faults.set(faults);
  }

  addFaults(route: RouteKey, faults: FaultsInput[RouteKey]): Faults {
    return this.faults.add(route, faults);
  }

  clearFaults(route?: RouteKey): void {
    this.faults.clear(route);
  }

  /** Back to the seeded catalog and the faults configured at start. */
  reset(): void {
    this.catalog.reset();
    this.faults.set(this.spec.faults);
    this.faults.resetCounters();
    this.rate.reset();
  }

  state() {
    return {
      ...this.info(),
      catalog: this.catalog.state(),
      requests: { ...this.faults.requests },
      faults: this.faults.current(),
    };
  }
}
