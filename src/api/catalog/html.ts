/**
 * Tiny HTML toolkit for the server-rendered pages: every interpolated value goes through `esc` (titles
 * come from operators: markup, `&`, quotes and any script are text here), and `html` joins trusted fragments.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A trusted fragment: built only from literals and `esc`-aped values. */
export class Html {
  constructor(readonly text: string) {}
  toString() {
    return this.text;
  }
}

/** Tagged template: interpolations are escaped unless they are Html fragments (or arrays of them). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1];
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}

const CSS = `
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --accent:#1d6fa5;
  --ok:#2f855a; --warn:#b7791f; --bad:#c53030; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color:var(--ink); background:var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:12px 24px; display:flex; gap:24px;
  align-items:center; }
header a.brand { font-weight:700; color:var(--ink); text-decoration:none; }
header nav a { margin-right:16px; }
main { max-width:1200px; margin:0 auto; padding:24px; }
a { color:var(--accent); }
h1 { font-size:24px; margin:0 0 16px; } h2 { font-size:18px; margin:28px 0 12px; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.idle { background:#e6f4ea; color:var(--ok); } .importing { background:#e3f0fb; color:var(--accent); }
.paused { background:#fdf1dc; color:var(--warn); } .failed, .cancelled { background:#fde8e8; color:var(--bad); }
.muted { color:var(--muted); font-size:13px; }
progress { width:160px; vertical-align:middle; }
table.operators td:last-child { min-width:340px; }
form.search { display:flex; gap:8px; margin-bottom:16px; }
form.search input { flex:1; max-width:420px; padding:8px 10px; border:1px solid var(--line); border-radius:6px; font:inherit; }
form.search button { padding:8px 14px; border:0; border-radius:6px; background:var(--accent); color:#fff; font:inherit; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(200px, 1fr)); gap:16px; list-style:none;
  padding:0; margin:0; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; overflow:hidden; }
.card a { color:inherit; text-decoration:none; display:block; }
.card img, .card .noimg { width:100%; aspect-ratio:3/2; object-fit:cover; display:block; background:var(--line); }
.card .body { padding:8px 12px; } .card .title { font-weight:600; }
.sizes { display:flex; flex-wrap:wrap; gap:16px; align-items:flex-start; }
.sizes figure { margin:0; background:#fff; border:1px solid var(--line); border-radius:8px; padding:8px; }
.sizes img { max-width:100%; height:auto; display:block; }
.pager { margin-top:16px; display:flex; gap:16px; }
`;

export function page(title: string, body: Html, opts: { refreshSeconds?: number } = {}): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${opts.refreshSeconds ? new Html(`<meta http-equiv="refresh" content="${opts.refreshSeconds}">`) : ''}
        <title>${title} · tour-import</title>
        <style>
          ${new Html(CSS)}
        </style>
      </head>
      <body>
        <header>
          <a class="brand" href="/">tour-import</a>
          <nav><a href="/">Operators</a><a href="/tours">Tours</a></nav>
        </header>
        <main>${body}</main>
      </body>
    </html> `.text;
}

export function when(d: Date | null | undefined): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—';
}

/** Where a page links a blob: the CDN (BLOB_PUBLIC_URL) when one is given, else the API's /blobs/ route. */
export function blobUrl(key: string, publicUrl?: string): string {
  return `${publicUrl ?? ''}/${publicUrl ? '' : 'blobs/'}${key.split('/').map(encodeURIComponent).join('/')}`;
}
