// The status page's HTML: one document with its style and script inline, built from the bundle with
// nothing fetched from anywhere else. The status is in the document itself, so the first paint needs no
// second request; the script (page-script.ts) draws it, then follows /events.

import { PAGE_LIVE } from './page-live.js';
import { PAGE_RENDER } from './page-script.js';

const PAGE_SCRIPT = `(function () {${PAGE_RENDER}${PAGE_LIVE}})();`;

export interface PageInput {
  /** What /api/status answers, scrubbed. */
  readonly status: unknown;
  /** A `listen_token` is configured: the page shows its buttons. */
  readonly canAct: boolean;
  readonly nonce: string;
}

/** JSON inside a <script> element: `<` escaped so no text in it can close the element. */
function embedded(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1c2127;--muted:#5c6670;--line:#d8dde3;
--ok:#1a7f37;--bad:#c62828;--run:#0b5cad;--warn:#8a5a00;--idle:#5c6670;--bar:#8fa1b3}
@media (prefers-color-scheme:dark){:root{--bg:#0f1216;--card:#181c22;--fg:#e6e9ed;--muted:#9aa5b1;--line:#2c333b;
--ok:#4ac26b;--bad:#ff6b6b;--run:#58a6ff;--warn:#e3b341;--idle:#9aa5b1;--bar:#53606e}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--run)}
.top{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--card);position:sticky;top:0;z-index:1}
.top h1{font-size:1.15rem;margin:0}
.top p{margin:0;color:var(--muted)}
#live[data-on="1"]::before{content:"● ";color:var(--ok)}
#live[data-on="0"]::before{content:"○ ";color:var(--warn)}
.tools{margin-left:auto;display:flex;gap:.5rem;align-items:center}
input,button{font:inherit;color:inherit}
input{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.3rem .5rem}
button{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.25rem .7rem;cursor:pointer}
button:hover{border-color:var(--run)}
button:focus-visible,input:focus-visible,a:focus-visible{outline:2px solid var(--run);outline-offset:2px}
main{padding:1rem}
#repos{list-style:none;margin:0;padding:0;display:grid;gap:.75rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,22rem),1fr))}
.repo{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--idle);border-radius:8px;padding:.6rem .8rem;min-width:0}
.repo.s-ok{border-left-color:var(--ok)}.repo.s-bad{border-left-color:var(--bad)}.repo.s-run{border-left-color:var(--run)}.repo.s-warn{border-left-color:var(--warn)}
.repo h2{font-size:1rem;margin:0;overflow-wrap:anywhere}
.head{display:flex;flex-wrap:wrap;gap:.25rem .5rem;align-items:baseline}
.ref{color:var(--muted);font-size:.9em;overflow-wrap:anywhere}
.badge{font-size:.75rem;border:1px solid currentColor;border-radius:99px;padding:0 .45rem;color:var(--warn)}
.repo p{margin:.25rem 0}
.state{font-weight:600}
.s-ok .state{color:var(--ok)}.s-bad .state{color:var(--bad)}.s-run .state{color:var(--run)}.s-warn .state{color:var(--warn)}
.meta{color:var(--muted);font-size:.9em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
pre{margin:.35rem 0;padding:.4rem .5rem;background:var(--bg);border:1px solid var(--line);border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;max-height:10.5em;overflow:auto}
.runs{display:flex;align-items:flex-end;gap:2px;height:28px;margin:.4rem 0 .1rem}
.runs span{flex:0 0 8px;background:var(--bar);border-radius:2px 2px 0 0;min-height:3px}
.runs span.ok{background:var(--ok)}
.runs span.bad{background:repeating-linear-gradient(45deg,var(--bad) 0 3px,transparent 3px 5px);border:1px solid var(--bad)}
.actions{display:flex;flex-wrap:wrap;gap:.4rem;margin-top:.4rem}
.empty{color:var(--muted)}
footer{padding:0 1rem 1rem;color:var(--muted);font-size:.85em}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.tools-token{display:flex;gap:.4rem;align-items:center}
@media (max-width:600px){.top{position:static}.tools{margin-left:0;width:100%;flex-wrap:wrap}.tools input{flex:1;min-width:0}.tools-token{width:100%}}
@media (min-width:1800px){body{font-size:17px}#repos{grid-template-columns:repeat(auto-fill,minmax(26rem,1fr))}}
`;

export function pageHtml(input: PageInput): string {
  const token = input.canAct
    ? `<form id="token-form" class="tools-token"><label for="token">Token</label> <input id="token" type="password" autocomplete="off" size="14" placeholder="listen_token"> <button type="submit">Use</button></form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>gitwatch</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header class="top" role="banner">
<h1>gitwatch</h1>
<p id="summary" role="status" aria-live="polite"></p>
<p id="live" data-on="0">connecting</p>
<p id="note" role="status" aria-live="polite"></p>
<div class="tools">
<label class="sr" for="filter">Filter repos</label><input id="filter" type="search" placeholder="Filter repos" autocomplete="off">
${token}
</div>
</header>
<main id="main">
<h2 class="sr">Repositories</h2>
<ul id="repos" aria-label="Repositories"></ul>
</main>
<footer role="contentinfo" id="foot"></footer>
<script type="application/json" id="gw-data">${embedded({ status: input.status, canAct: input.canAct })}</script>
<script nonce="${input.nonce}">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
