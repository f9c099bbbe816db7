/* The dashboard page's section for distributed runs, inserted once into
 * dashboard_page (dashboard_page.c). It stays hidden unless /api/series
 * carries "agents" (a coordinator's page) and shows the run form only when
 * it carries "control" (`blast dashboard`). Its script wraps the page's
 * draw() and, on `blast dashboard`, keeps polling between runs. */
#ifndef BLAST_DASHBOARD_AGENTS_PAGE_H
#define BLAST_DASHBOARD_AGENTS_PAGE_H

#define DASHBOARD_AGENTS_PAGE \
"<div id=\"dist\" hidden>\n" \
"<h2>Agents</h2><table id=\"agents\"><tr><td>none yet</td></tr></table>\n" \
"<p id=\"partial\"></p>\n" \
"<form id=\"runform\" hidden><h2>Start a run</h2>\n" \
"<p id=\"runtok\"></p>\n" \
"<label>protocol <select name=\"proto\"><option>mqtt</option><option>kafka</option><option>ws</option><option>http</option></select></label>\n" \
"<label>target(s) <input name=\"target\" size=\"28\" placeholder=\"127.0.0.1:1883, ...\"></label>\n" \
"<label>connections <input name=\"conns\" size=\"6\" value=\"4\"></label>\n" \
"<label>rate (msg/s, empty: no limit) <input name=\"rate\" size=\"7\"></label>\n" \
"<label>think time (http) <input name=\"think\" size=\"6\" placeholder=\"500ms\"></label>\n" \
"<label>QoS (mqtt) <select name=\"qos\"><option>0</option><option>1</option><option>2</option></select></label>\n" \
"<label>duration <input name=\"duration\" size=\"5\" placeholder=\"10s\"></label>\n" \
"<label>or messages <input name=\"messages\" size=\"7\"></label>\n" \
"<label>agents <input name=\"agents\" size=\"3\" value=\"1\"></label>\n" \
"<button id=\"runbtn\" type=\"submit\">Start the run</button></form>\n" \
"<p id=\"runerr\"></p><p id=\"runmsg\"></p></div>\n" \
"<script>\n" \
"'use strict';\n" \
"const num=(v,f)=>v==null?'-':f(v);\n" \
"let runs=-1,wasDone=false;\n" \
"function drawAgents(d){\n" \
" if(!d.agents)return;$('dist').hidden=false;\n" \
" $('agents').innerHTML=d.agents.length?'<tr><th>agent</th><th>state</th><th>heartbeat age (s)</th><th>version</th><th>cores</th><th>rate (sent/s)</th><th>p99 (us)</th><th>marks</th></tr>'+\n" \
"  d.agents.map(a=>'<tr class=\"agent\"><td>'+esc(a.name)+'</td><td>'+a.state+'</td><td>'+num(a.hb_age_s,v=>v.toFixed(1))+'</td><td>'+esc(a.version)+\n" \
"  '</td><td>'+a.cores+'</td><td>'+num(a.rate,fmt)+'</td><td>'+num(a.p99_us,v=>v.toFixed(1))+'</td><td>'+(a.lost?'lost ':'')+(a.partial?'partial':'')+'</td></tr>').join(''):'<tr><td>none yet</td></tr>';\n" \
" $('partial').textContent=d.partial&&d.partial.length?'Partial seconds (an agent\\'s share missing), t = '+d.partial.map(t=>t.toFixed(0)).join(', '):'';\n" \
" markPartial(d);\n" \
" const c=d.control;if(!c)return;\n" \
" $('runform').hidden=false;$('runbtn').disabled=c.running||!token;\n" \
" $('runtok').textContent=token?'':'The address has no #token=...: the form cannot start a run.';\n" \
" if(!c.running)$('stop').hidden=true;\n" \
" if(!c.runs&&!c.running)$('state').textContent='idle: no run yet';\n" \
" else if(c.running&&!d.rows.length)$('state').textContent='starting: waiting for the agents';\n" \
" $('runmsg').textContent=c.running&&d.rows.length?'run '+c.runs+': running':c.message;\n" \
"}\n" \
"/* A red tick under each partial second of the throughput chart (its x as chart() puts it). */\n" \
"function markPartial(d){\n" \
" const svg=$('c_tp'),n=Math.max(d.rows.length-1,1),P=36,W=600,H=180;\n" \
" for(const t of d.partial||[]){const i=d.rows.findIndex(r=>Math.abs(r.t-t)<1e-3);if(i<0)continue;\n" \
"  const m=document.createElementNS(NS,'rect');m.setAttribute('class','partial');\n" \
"  m.setAttribute('x',(P+(W-P-6)*i/n-2).toFixed(1));m.setAttribute('y',H-16);m.setAttribute('width',4);\n" \
"  m.setAttribute('height',8);m.setAttribute('fill','#d62728');svg.appendChild(m);}\n" \
"}\n" \
"const draw0=draw;\n" \
"draw=function(d){draw0(d);drawAgents(d);};\n" \
"async function watch(){\n" \
" try{const r=await fetch('/api/now',{cache:'no-store'});const d=await r.json();\n" \
"  if(d.control){if(runs>=0&&d.control.runs!==runs&&wasDone){shown=false;$('final').innerHTML='';tick();}\n" \
"   runs=d.control.runs;wasDone=d.done;if(d.done)drawAgents(d);}\n" \
"  else if(d.done)drawAgents(d);}catch(e){}\n" \
" setTimeout(watch,1000);\n" \
"}\n" \
"$('runform').onsubmit=async e=>{e.preventDefault();\n" \
" const q=new URLSearchParams(new FormData($('runform')));\n" \
" const r=await fetch('/api/run?'+q,{method:'POST',headers:{'X-Blast-Token':token||''}});\n" \
" $('runerr').textContent=(r.ok?'':'refused ('+r.status+'): ')+(await r.text());};\n" \
"watch();\n" \
"</script>\n"

#endif
