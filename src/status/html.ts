import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/** The status page's frame and login form: inline CSS and script, nothing fetched from elsewhere. */

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{font-weight:600;background:#f0f0f0}.dim{color:#777}.meta{color:#555;margin:0}
.bar{position:relative;width:16rem;height:1.1rem;background:#eee;border-radius:3px;margin:.15rem 0}
.bar span{position:absolute;left:0;top:0;bottom:0;background:#6a9fd8;border-radius:3px}
.bar.high span{background:#e0a030}.bar.full span{background:#d04040}
.bar em{position:relative;font-style:normal;font-size:12px;padding-left:.4rem}
form.login{max-width:24rem;margin-top:2rem}input[type=password]{width:100%;padding:.4rem;margin:.4rem 0}
.error{color:#b00}header{display:flex;justify-content:space-between;align-items:baseline}
`;

// re-render the live sections from /status/live (same-origin SSE; the session cookie goes along).
// A refused stream (the session ended) closes the EventSource: reload, and the login form says
// why; a lost connection (a restart) is retried by the browser, and the signed cookie still works.
const SCRIPT = `
(function(){
  if(!window.EventSource)return;
  var es=new EventSource('/status/live');
  var note=document.getElementById('conn');
  es.onerror=function(){
    if(es.readyState===2){location.reload();return;}
    if(note)note.textContent='connection lost: retrying';
  };
  es.onopen=function(){if(note)note.textContent='';};
  es.onmessage=function(m){
    try{var d=JSON.parse(m.data);
      document.getElementById('tasks').innerHTML=d.tasks;
      document.getElementById('failures').innerHTML=d.failures;
      document.getElementById('recent').innerHTML=d.recent;
    }catch(e){}
  };
})();
`;

export function layout(
  relayId: string,
  who: string,
  content: HtmlEscapedString | Promise<HtmlEscapedString>,
) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>a2a-relay ${relayId}</title><style>${raw(STYLE)}</style></head>
<body><header><h1>a2a-relay ${relayId}</h1>
<form method="post" action="/logout"><span id="conn" class="error"></span> <span class="dim">signed in as ${who}</span> <button type="submit">sign out</button></form></header>
${content}
<script>${raw(SCRIPT)}</script></body></html>`;
}

export function loginForm(relayId: string, error?: string) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>a2a-relay ${relayId}: sign in</title><style>${raw(STYLE)}</style></head>
<body><h1>a2a-relay ${relayId}</h1>
<form class="login" method="post" action="/login">
<p>The status page needs an admin peer's credential: its token (for the built-in peer
<code>local</code>: <code>&lt;data dir&gt;/tokens/local.token</code>) or a JWT this relay accepts
from it.</p>
${error ? html`<p class="error">${error}</p>` : ""}
<label>Token or JWT <input type="password" name="token" autocomplete="current-password" autofocus required></label>
<button type="submit">sign in</button>
</form></body></html>`;
}
