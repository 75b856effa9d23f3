import { htmlPage, scriptJson } from '../html/page.js';

const STYLE = `
header{display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}#runs a{margin-right:12px}#runs a.sel{font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#eef1f4;margin-right:6px}
.st-completed{color:#1a7f37}.st-failed{color:#cf222e}.st-cancelled{color:#9a6700}.st-running{color:#0969da}.st-pending{color:#57606a}
.pbar{display:inline-block;width:90px;height:8px;background:#e3e6ea;border-radius:4px;vertical-align:middle;margin-right:6px}
.pbar>i{display:block;height:8px;background:#0969da;border-radius:4px}
#tasks tr{cursor:pointer}#tasks tr.sel{background:#f6f8fa}button{font:inherit;padding:1px 8px;margin-right:4px}
#detail{border-left:3px solid #0969da;padding:4px 12px;margin:12px 0}#detail pre{background:#f6f8fa;padding:8px;max-height:260px;overflow:auto;white-space:pre-wrap}
iframe{width:100%;height:400px;border:1px solid #e3e6ea}#msg{color:#cf222e}
`;

/** The dashboard: runs, a live task table with state counts, per-task detail, the report. Talks only to the JSON API. */
export function dashboardHtml(token: string): string {
  const body = `
<header><h1>runner</h1><nav id="runs"></nav><span id="live" class="note"></span></header>
<div id="msg"></div>
<section id="run" hidden>
  <h2 id="run-title"></h2>
  <p id="counts"></p>
  <p class="note" id="runners"></p>
  <label>state <select id="f-state"><option value="">all</option><option>pending</option><option>running</option><option>completed</option><option>failed</option><option>cancelled</option></select></label>
  <label>stage <select id="f-stage"><option value="">all</option></select></label>
  <table><thead><tr><th>task</th><th>state</th><th>progress</th><th>duration</th><th>metric</th><th>checkpoint</th><th></th></tr></thead><tbody id="tasks"></tbody></table>
  <div id="detail" hidden></div>
  <h2>Report <button id="report-reload">reload</button></h2>
  <iframe id="report" title="report"></iframe>
</section>`;
  const script = `
const TOKEN=${scriptJson(token)};
const $=(s)=>document.querySelector(s);
const esc=(v)=>String(v??'').replace(/[&<>"']/g,(c)=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
const fmtMs=(ms)=>{if(!ms)return '';const s=ms/1000;if(s<60)return s.toFixed(s<10?1:0)+'s';const m=Math.floor(s/60);return m<60?m+'m'+String(Math.floor(s%60)).padStart(2,'0')+'s':Math.floor(m/60)+'h'+String(m%60).padStart(2,'0')+'m';};
const fmtNum=(v)=>Number.isInteger(v)?String(v):Number(v.toPrecision(4)).toString();
let run=null,source=null,selected=null,refreshTimer=null,reportTimer=null,reportDirty=false;
async function api(path,opts={}){const r=await fetch(path,{...opts,headers:{...(opts.body?{'content-type':'application/json'}:{}),...(opts.method&&opts.method!=='GET'?{authorization:'Bearer '+TOKEN}:{})}});
  const j=await r.json().catch(()=>({}));if(!r.ok)throw new Error(j.message||r.statusText);return j;}
function headline(res){if(!res||typeof res!=='object')return '';if(res.headline)return res.headline.name+'='+fmtNum(res.headline.value);
  if(typeof res.bestValue==='number')return 'best '+(res.metric||'value')+'='+fmtNum(res.bestValue);
  const m=res.metrics||{};for(const k of ['val_loss','sharpe','loss']){if(typeof m[k]==='number')return k+'='+fmtNum(m[k]);}return '';}
async function loadRuns(){const {runs}=await api('/api/runs');
  $('#runs').innerHTML=runs.map((r)=>'<a href="#run='+encodeURIComponent(r.name)+'" data-run="'+esc(r.name)+'"'+(r.name===run?' class="sel"':'')+'>'+esc(r.name)+' <span class="note">'+r.tasks.completed+'/'+r.tasks.total+(r.runners.length?' ▶':'')+'</span></a>').join('')||'<span class="note">no runs yet</span>';
  if(!run&&runs.length&&!location.hash)location.hash='run='+encodeURIComponent(runs[0].name);}
function progressCell(t){const f=t.progress&&t.progress.fraction!=null?t.progress.fraction:(t.state==='completed'?1:0);
  return '<span class="pbar"><i style="width:'+Math.round(f*100)+'%"></i></span><span class="progress-text" data-fraction="'+f+'">'+esc(t.progressText||(Math.floor(f*100)+'%'))+'</span>';}
function rowHtml(t){const ck=t.lastCheckpoint?('step '+t.lastCheckpoint.step):'';
  const act=(t.state==='pending'||t.state==='running')?'<button class="cancel" data-id="'+esc(t.id)+'">cancel</button>':(t.state==='cancelled'||t.state==='failed')?'<button class="resume" data-id="'+esc(t.id)+'">resume</button>':'';
  const ran=t.runMs+(t.state==='running'&&t.startedAt?Date.now()-Date.parse(t.startedAt):0);
  return '<tr data-id="'+esc(t.id)+'" data-state="'+t.state+'"'+(t.id===selected?' class="sel"':'')+'><td>'+esc(t.id)+'</td><td class="state st-'+t.state+'">'+t.state+'</td><td class="progress">'+progressCell(t)+'</td><td>'+fmtMs(ran)+'</td><td>'+esc(headline(t.result))+'</td><td>'+esc(ck)+'</td><td>'+act+'</td></tr>';}
// Rows are patched in place, cell by cell, never rebuilt: a table rebuilt between a button's
// mousedown and mouseup loses the click (the click goes to the table), and the store changes
// several times a second while tasks checkpoint.
function renderRows(tasks,more){const tb=$('#tasks');const old=new Map();for(const tr of tb.querySelectorAll('tr[data-id]'))old.set(tr.dataset.id,tr);
  const rows=tasks.map((t)=>{const tmp=document.createElement('tbody');tmp.innerHTML=rowHtml(t);const fresh=tmp.firstElementChild;const tr=old.get(t.id);if(!tr)return fresh;
    tr.dataset.state=fresh.dataset.state;tr.className=fresh.className;const oc=Array.from(tr.children),nc=Array.from(fresh.children);
    nc.forEach((c,i)=>{const o=oc[i];if(!o)tr.appendChild(c);else if(o.outerHTML!==c.outerHTML)o.replaceWith(c);});return tr;});
  let moreRow=tb.querySelector('tr.more');if(more>0){if(!moreRow){moreRow=document.createElement('tr');moreRow.className='more';}moreRow.innerHTML='<td colspan="7" class="note">'+more+' more</td>';rows.push(moreRow);}
  const now=Array.from(tb.children);if(now.length!==rows.length||now.some((x,i)=>x!==rows[i]))tb.replaceChildren(...rows);}
// Refreshes run one after another, so an older answer never overwrites a newer one.
let refreshChain=Promise.resolve();
function refresh(){const p=refreshChain.then(refreshNow);refreshChain=p.catch(()=>{});return p;}
async function refreshNow(){if(!run)return;const q=new URLSearchParams();if($('#f-state').value)q.append('state',$('#f-state').value);if($('#f-stage').value)q.append('stage',$('#f-stage').value);
  const [s,list]=await Promise.all([api('/api/runs/'+encodeURIComponent(run)),api('/api/runs/'+encodeURIComponent(run)+'/tasks?'+q)]);
  $('#run-title').textContent=s.title;
  const k=s.tasks;$('#counts').innerHTML=['completed','running','pending','failed','cancelled'].map((x)=>'<span class="badge st-'+x+'" data-count="'+x+'">'+k[x]+' '+x+'</span>').join('')+'<span class="note">'+k.total+' tasks'+(s.children?', '+s.children+' child tasks':'')+'</span>';
  $('#runners').textContent=s.runners.length?s.runners.map((r)=>'runner pid '+r.pid+' on '+r.host).join('; '):(s.interrupted?'interrupted (runner gone); resumes on the next start':'no runner is working on it now');
  const stages=Object.keys(s.stages);const sel=$('#f-stage');if(sel.options.length-1!==stages.length){const v=sel.value;sel.innerHTML='<option value="">all</option>'+stages.map((x)=>'<option>'+esc(x)+'</option>').join('');sel.value=v;}
  renderRows(list.tasks,list.total-list.tasks.length);
  if(selected)await showDetail(selected);}
// A burst of store events refreshes once within 250 ms; a steady stream (tasks checkpointing
// several times a second) refreshes every 250 ms rather than never, as a debounce would.
function scheduleRefresh(){reportDirty=true;if(refreshTimer)return;refreshTimer=setTimeout(()=>{refreshTimer=null;refresh().catch(showError);},250);}
async function showDetail(id){selected=id;const d=await api('/api/runs/'+encodeURIComponent(run)+'/tasks/'+id.split('/').map(encodeURIComponent).join('/')+'?log=30');
  const t=d.task;const el=$('#detail');el.hidden=false;
  el.innerHTML='<h3>'+esc(t.id)+' <span class="st-'+t.state+'">'+t.state+'</span></h3>'+
   '<p class="note">attempts '+t.attempts+(t.notes.length?' · '+esc(t.notes[t.notes.length-1]):'')+'</p>'+
   '<h4>Checkpoints</h4>'+(d.checkpoints.length?'<table class="checkpoints"><tr><th>#</th><th>type</th><th>step</th><th>time</th><th class="num">bytes</th></tr>'+d.checkpoints.map((c)=>'<tr><td>'+c.seq+'</td><td>'+c.type+'</td><td>'+c.step+(c.total!=null?'/'+c.total:'')+'</td><td>'+esc(c.time)+'</td><td class="num">'+c.size+'</td></tr>').join('')+'</table>':'<p class="note">none</p>')+
   '<h4>Log</h4><pre class="log">'+esc(d.log.map((l)=>l.time.slice(11,19)+' '+l.level+' '+l.message).join('\\n')||'(no log lines)')+'</pre>'+
   (t.error?'<h4>Error</h4><pre>'+esc(t.error.message)+'</pre>':'')+
   '<h4>Result</h4><pre class="result">'+esc(t.result?JSON.stringify(t.result,null,2):'(none yet)')+'</pre>';}
function onProgress(list){for(const p of list){const row=document.querySelector('#tasks tr[data-id="'+CSS.escape(p.id)+'"]');if(!row)continue;
  const f=p.fraction??0;row.querySelector('.pbar>i').style.width=Math.round(f*100)+'%';const txt=row.querySelector('.progress-text');txt.dataset.fraction=String(f);txt.textContent=p.text||Math.floor(f*100)+'%';}}
function connect(){if(source)source.close();source=new EventSource('/api/runs/'+encodeURIComponent(run)+'/events');
  source.addEventListener('hello',()=>{$('#live').textContent='live';});
  source.addEventListener('store',scheduleRefresh);
  source.addEventListener('progress',(e)=>onProgress(JSON.parse(e.data)));
  source.onerror=()=>{$('#live').textContent='reconnecting…';};}
function loadReport(){$('#report').src='/api/runs/'+encodeURIComponent(run)+'/report.html';reportDirty=false;}
function showError(e){$('#msg').textContent=String(e.message||e);}
async function route(){const m=/run=([^&]+)/.exec(location.hash);const next=m?decodeURIComponent(m[1]):null;
  if(next!==run){run=next;selected=null;$('#detail').hidden=true;$('#run').hidden=!run;if(run){connect();loadReport();}}
  await loadRuns();await refresh();}
document.addEventListener('click',async(e)=>{const b=e.target.closest('button');
  try{if(b&&b.classList.contains('cancel')){e.stopPropagation();b.disabled=true;await api('/api/runs/'+encodeURIComponent(run)+'/cancel',{method:'POST',body:JSON.stringify({task:b.dataset.id})});await refresh();return;}
  if(b&&b.classList.contains('resume')){e.stopPropagation();b.disabled=true;const r=await api('/api/runs/'+encodeURIComponent(run)+'/resume',{method:'POST',body:JSON.stringify({task:b.dataset.id})});
    $('#msg').textContent='';$('#live').textContent='resumed '+r.id+(r.from?' from checkpoint #'+r.from.seq+' at step '+r.from.step:' (no checkpoint: starts fresh)');await refresh();return;}
  if(b&&b.id==='report-reload'){loadReport();return;}
  const tr=e.target.closest('#tasks tr[data-id]');if(tr){await showDetail(tr.dataset.id);document.querySelectorAll('#tasks tr.sel').forEach((x)=>x.classList.remove('sel'));tr.classList.add('sel');}}catch(err){showError(err);}});
$('#f-state').addEventListener('change',()=>refresh().catch(showError));$('#f-stage').addEventListener('change',()=>refresh().catch(showError));
window.addEventListener('hashchange',()=>route().catch(showError));
$('#report').addEventListener('load',()=>{try{const d=$('#report').contentDocument;$('#report').style.height=Math.max(300,d.documentElement.scrollHeight+20)+'px';}catch(e){}});
reportTimer=setInterval(()=>{if(reportDirty&&run)loadReport();},15000);
setInterval(()=>loadRuns().catch(()=>{}),5000);
route().catch(showError);
`;
  return htmlPage({ title: 'runner dashboard', body, script, style: STYLE });
}
