import type { Pool } from '../../db/pool.js';
import { blobUrl, html, page, when } from './html.js';
import { THUMB, searchTours, tourDetail } from '../../db/catalog-pages.js';

const PAGE_SIZE = 48;

export async function renderToursPage(
  pool: Pool,
  q: string,
  pageNo: number,
  publicUrl?: string,
): Promise<string> {
  const { tours, total } = await searchTours(pool, q, PAGE_SIZE, (pageNo - 1) * PAGE_SIZE);
  const link = (n: number) => `/tours?${new URLSearchParams({ q, page: String(n) })}`;
  const cards = tours.map(
    (t) =>
      html`<li class="card" data-tour="${t.id}">
        <a href="/tours/${t.id}">
          ${
            t.thumbKey
              ? html`<img
                  src="${blobUrl(t.thumbKey, publicUrl)}"
                  alt="${t.title ?? ''}"
                  width="${THUMB.width}"
                />`
              : html`<div class="noimg"></div>`
          }
          <div class="body">
            <div class="title">${t.title ?? t.externalId}</div>
            <div class="muted">${t.operatorId}${t.price ? html` · ${t.price}` : ''}</div>
          </div></a
        >
      </li>`,
  );
  const body = html`<h1>Tours</h1>
    <form class="search" method="get" action="/tours" role="search">
      <input type="search" name="q" value="${q}" placeholder="Search titles…" aria-label="Search titles" />
      <button type="submit">Search</button>
    </form>
    <p class="muted" id="count">
      ${total} ${total === 1 ? 'tour' : 'tours'}${q ? html` matching “${q}”` : ''}
    </p>
    ${
      cards.length
        ? html`<ul class="grid">
            ${cards}
          </ul>`
        : html`<p>No tours found.</p>`
    }
    <div class="pager">
      ${pageNo > 1 ? html`<a href="${link(pageNo - 1)}">← previous</a>` : ''}${
        pageNo * PAGE_SIZE < total ? html`<a href="${link(pageNo + 1)}">next →</a>` : ''
      }
    </div>`;
  return page(q ? `Tours matching “${q}”` : 'Tours', body);
}

/** Variants link to the CDN when there is one (publicUrl); originals stay behind the API. */
export async function renderTourPage(
  pool: Pool,
  id: number,
  publicUrl?: string,
): Promise<string | undefined> {
  const t = await tourDetail(pool, id);
  if (!t) return undefined;
  const images = t.images.map((img) => {
    if (img.status !== 'ready' || !img.originalKey)
      return html`<section>
        <h2>Image ${img.position + 1}</h2>
        <p class="muted">failed: ${img.failureReason}</p>
      </section>`;
    const o = img.original;
    const sizes = img.variants.map(
      (v) =>
        html`<figure>
          <img
            src="${blobUrl(v.storageKey, publicUrl)}"
            alt="${img.caption ?? t.title ?? ''}"
            width="${v.actualWidth}"
            height="${v.actualHeight}"
          />
          <figcaption class="muted">
            ${v.width}px ${v.format} · ${v.actualWidth}×${v.actualHeight} · ${Math.round(v.bytes / 1024)} KB
          </figcaption>
        </figure>`,
    );
    return html`<section>
      <h2>Image ${img.position + 1}${img.caption ? html` — ${img.caption}` : ''}</h2>
      <p class="muted">
        <a href="${blobUrl(img.originalKey)}">original</a>${
          o?.width ? html` · ${o.width}×${o.height} ${o.format ?? ''}` : ''
        }
      </p>
      <div class="sizes">${sizes}</div>
    </section>`;
  });
  const body = html`<p class="muted"><a href="/tours">← all tours</a></p>
    <h1>${t.title ?? t.externalId}</h1>
    <p class="muted">
      ${t.operatorId} / ${t.externalId} ·
      ${t.status}${t.price ? html` · ${t.price}` : ''}${
        t.durationMinutes ? html` · ${t.durationMinutes} min` : ''
      }
      · updated ${when(t.updatedAt)}
    </p>
    ${t.description ? html`<p>${t.description}</p>` : ''}
    ${images.length ? images : html`<p class="muted">This tour has no images.</p>`}`;
  return page(t.title ?? t.externalId, body);
}
