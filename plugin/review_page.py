"""The review screen: one self-contained HTML page (inline CSS and JS, nothing fetched from elsewhere).

Every value from a file is escaped (``html.escape``); the page's script and style carry the
session's nonce, which the server's Content-Security-Policy requires, so nothing else can run. The
script only moves between posts and POSTs actions (with the session token) to ``/api/decide``.

Keys: j/k (or the arrow keys) next/previous, a approve, r reject, u undecided, 1-5 stars, 0 no
stars, t edit the title (Enter saves, Escape cancels). Buttons do the same, and "Done" ends the session.
"""
from __future__ import annotations

from html import escape

KEYS = (("j / ↓", "next post"), ("k / ↑", "previous post"), ("a", "approve"), ("r", "reject (a new post is "
        "drawn by the next `make queue`)"), ("u", "undecided"), ("1–5", "stars"), ("0", "no stars"),
        ("t", "edit the title (Enter saves, Esc cancels)"))

CSS = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f5f1;color:#222}
header{position:sticky;top:0;background:#222;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center}
header h1{font-size:1.1rem;margin:0;flex:1}
main{max-width:46rem;margin:1rem auto;padding:0 1rem}
.keys{font-size:.85rem;color:#555}.keys kbd{background:#fff;border:1px solid #bbb;border-radius:3px;padding:0 .3em}
article{background:#fff;border:2px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
article.current{border-color:#2a6fdb;box-shadow:0 0 0 3px #2a6fdb33}
article[data-state=approved]{border-left:8px solid #2e8b57}
article[data-state=rejected]{opacity:.6;border-left:8px solid #b22}
article[data-state=published]{border-left:8px solid #888}
.meta{font-size:.85rem;color:#555;display:flex;gap:1rem;flex-wrap:wrap}
.state{font-weight:bold;text-transform:uppercase}
.stars{color:#c80;letter-spacing:.1em}
h2{margin:.3rem 0}.body p{margin:.5rem 0;white-space:pre-wrap}
.problem{color:#b22}.actions button{margin:.2rem .2rem 0 0}
#status{min-height:1.4em}
input.title{width:100%;font:inherit;font-size:1.3rem}
"""

SCRIPT = r"""
(function(){
"use strict";
var token=document.querySelector('meta[name=review-token]').content;
var posts=Array.prototype.slice.call(document.querySelectorAll('article.post'));
var cur=0, status=document.getElementById('status');
function say(t){status.textContent=t;}
function select(i){if(!posts.length)return;cur=Math.max(0,Math.min(posts.length-1,i));
 posts.forEach(function(p,n){p.classList.toggle('current',n===cur);});
 posts[cur].scrollIntoView({block:'nearest'});}
function stars(n){return n?'★★★★★'.slice(0,n)+'☆☆☆☆☆'.slice(n):'no stars';}
function show(p,item){p.dataset.state=item.state;p.querySelector('.state').textContent=item.state;
 p.querySelector('.stars').textContent=stars(item.stars);p.querySelector('h2').textContent=item.title;
 p.querySelector('.edited').textContent=item.edited?'(title edited)':'';
 var pr=p.querySelector('.problem');pr.textContent=item.problem||'';}
function post(url,data){return fetch(url,{method:'POST',credentials:'same-origin',
 headers:{'Content-Type':'application/json','X-Review-Token':token},body:JSON.stringify(data||{})})
 .then(function(r){return r.json();});}
function act(action,value,advance){var p=posts[cur];if(!p)return;
 post('/api/decide',{day:p.dataset.day,action:action,value:value}).then(function(res){
  if(!res.ok){say(res.error);return;}show(p,res.item);say(p.dataset.day+': '+res.item.state+
  (res.item.stars?', '+res.item.stars+' star(s)':''));if(advance)select(cur+1);});}
function editTitle(){var p=posts[cur];if(!p||p.querySelector('input.title'))return;
 var h=p.querySelector('h2'),inp=document.createElement('input');inp.className='title';inp.value=h.textContent;
 inp.setAttribute('aria-label','title');h.after(inp);h.hidden=true;inp.focus();inp.select();
 inp.addEventListener('keydown',function(e){e.stopPropagation();
  if(e.key==='Enter'){e.preventDefault();var v=inp.value;inp.remove();h.hidden=false;act('title',v,false);}
  else if(e.key==='Escape'){inp.remove();h.hidden=false;}});}
document.addEventListener('keydown',function(e){if(e.ctrlKey||e.metaKey||e.altKey)return;
 if(e.target&&e.target.tagName==='INPUT')return;var k=e.key;
 if(k==='j'||k==='ArrowDown'){select(cur+1);}else if(k==='k'||k==='ArrowUp'){select(cur-1);}
 else if(k==='a'){act('approve',null,true);}else if(k==='r'){act('reject',null,true);}
 else if(k==='u'){act('queue',null,false);}else if(k>='1'&&k<='5'){act('stars',parseInt(k,10),false);}
 else if(k==='0'){act('stars',null,false);}else if(k==='t'){e.preventDefault();editTitle();}else return;
 e.preventDefault();});
posts.forEach(function(p,n){p.addEventListener('click',function(){select(n);});
 p.querySelectorAll('button[data-action]').forEach(function(b){b.addEventListener('click',function(e){
  e.stopPropagation();select(n);var a=b.dataset.action;
  if(a==='title'){editTitle();}else act(a,b.dataset.value?parseInt(b.dataset.value,10):null,false);});});});
document.getElementById('done').addEventListener('click',function(){post('/api/done').then(function(){
 document.querySelector('main').innerHTML='<p>Review finished: your decisions are saved. You can close this tab.</p>';
 say('done');});});
select(0);
})();
"""


def _stars(n: int | None) -> str:
    return ("★" * n + "☆" * (5 - n)) if n else "no stars"


def _article(item, where: str) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in item.body.split("\n\n") if p.strip())
    buttons = ""
    if item.state in ("queued", "approved"):
        buttons = ('<button data-action="approve">Approve (a)</button><button data-action="reject">Reject (r)'
                   '</button><button data-action="title">Edit title (t)</button>')
    if item.state in ("queued", "approved", "published"):
        buttons += "".join(f'<button data-action="stars" data-value="{n}">{n}★</button>' for n in range(1, 6))
    return (f'<article class="post" data-day="{escape(item.day.isoformat())}" data-state="{escape(item.state)}">'
            f'<div class="meta"><span class="day">{escape(item.day.strftime("%a %d %b %Y"))}</span>'
            f'<span class="state">{escape(item.state)}</span><span class="stars">{_stars(item.stars)}</span>'
            f'<span>seed {escape(str(item.seed))}</span><span class="edited">{"(title edited)" if item.edited else ""}'
            f'</span></div><h2>{escape(item.title)}</h2><p class="problem">{escape(item.problem or "")}</p>'
            f'<div class="body">{paragraphs}</div><div class="actions">{buttons}</div></article>')


def render(items, token: str, nonce: str, folder: str) -> str:
    keys = " · ".join(f"<kbd>{escape(k)}</kbd> {escape(v)}" for k, v in KEYS)
    body = "".join(_article(item, folder) for item in items) or "<p>Nothing to review.</p>"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Review the machine’s posts</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta name="review-token" content="{escape(token)}"><style nonce="{nonce}">{CSS}</style></head>'
            f'<body><header><h1>Review the machine’s posts <small>({escape(folder)})</small></h1>'
            f'<span id="status" role="status"></span><button id="done">Done</button></header><main>'
            f'<p class="keys">{keys}</p>{body}</main><script nonce="{nonce}">{SCRIPT}</script></body></html>')
