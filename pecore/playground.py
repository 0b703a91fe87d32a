"""The scoring playground: every CSF × score variant × top-set size, computed ahead by pecore's own scoring, shown
on a static page that switches between them in the browser (no kernel; it works from ``file://``).

For VGG-16 and AlexNet, the stored paper-grid sweeps are re-scored (:func:`pecore.rescore.rescore`, no forward
pass) under each CSF of :data:`CSFS` and each variant of :data:`pecore.efficacy.VARIANTS` that leaves the CSF alone.
For each combination, layer and p the data hold every channel's PE, the top-p % set (:func:`pecore.selection.select_channels`),
its Jaccard overlap with the default scoring's top set and the share of the default top set it keeps (the sets as the
experiments choose them: live channels), and the chance levels (:func:`pecore.compare.chance_jaccard`, p / 100). The page only displays: no score is computed in
JavaScript.

Examples
--------
>>> d = playground_data(["alexnet"], ps=(25.0,))
>>> combo = d["networks"]["alexnet"]["combos"]["barten|default"]["relu2"]
>>> sorted(combo), 0 <= combo["p"]["25"]["jaccard"] <= 1
(['hist', 'p'], True)
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OutputError

__all__ = ["CSFS", "PLAYGROUND_FILE", "combinations", "playground_data", "playground_html", "write_playground"]

#: the CSFs the page offers (the variants that set the CSF themselves are left out of the variant menu)
CSFS = ("mannos-sakrison", "barten", "flat")
#: the file the book's page includes
PLAYGROUND_FILE = "playground.html"
_BINS = 24


def combinations() -> list[tuple[str, str]]:
    """Every (CSF, variant) pair the page offers: each CSF with each variant that leaves the CSF alone.

    Examples
    --------
    >>> combinations()[:2], len(combinations())
    ([('mannos-sakrison', 'default'), ('mannos-sakrison', 'no-normalisation')], 24)
    """
    from .efficacy import VARIANTS

    variants = [v for v, opts in VARIANTS.items() if "csf" not in opts]
    return [(c, v) for c in CSFS for v in variants]


def playground_data(networks: Sequence[str] = ("vgg16", "alexnet"), ps: Sequence[float] = (10.0, 25.0, 50.0)
                    ) -> dict[str, Any]:
    """The page's data: per network, combination (``'csf|variant'``), layer and p, as the module notes say."""
    from .compare import chance_jaccard
    from .efficacy import make_config
    from .notebook import stored_probe_dir
    from .rescore import rescore
    from .selection import select_channels

    out: dict[str, Any] = {"ps": [float(p) for p in ps], "combos": [f"{c}|{v}" for c, v in combinations()],
                           "networks": {}}
    for net in networks:
        folder = stored_probe_dir(net)
        scored = {f"{c}|{v}": rescore(folder, make_config([] if v == "default" else [v], csf=c))
                  for c, v in combinations()}
        default = scored["mannos-sakrison|default"].table
        layers = list(dict.fromkeys(default.layer))
        entry: dict[str, Any] = {"layers": layers, "live": {}, "chance": {}, "combos": {}}
        for layer in layers:
            rows = default[default.layer == layer]
            n_live = int((~rows.dead.astype(bool)).sum())
            entry["live"][layer] = n_live
            entry["chance"][layer] = {f"{p:g}": {"jaccard": round(chance_jaccard(n_live, p), 4),
                                                 "kept": round(p / 100, 4)} for p in ps}
        for key, result in scored.items():
            t = result.table
            per_layer = {}
            for layer in layers:
                rows = t[t.layer == layer].sort_values("channel")
                live = ~rows.dead.astype(bool).to_numpy()
                pe = rows.pe.to_numpy(float)
                base = default[default.layer == layer].sort_values("channel")
                counts, edges = np.histogram(pe[live], bins=_BINS)
                ref_pe = base.pe.to_numpy(float)[~base.dead.astype(bool).to_numpy()]
                ref_counts, _ = np.histogram(np.clip(ref_pe, edges[0], edges[-1]), bins=edges)
                per_p = {}
                for p in ps:
                    top = set(select_channels(t, layer, "top", p).tolist())
                    ref = set(select_channels(default, layer, "top", p).tolist())
                    per_p[f"{p:g}"] = {"top": sorted(top), "jaccard": round(len(ref & top) / max(1, len(ref | top)), 4),
                                       "kept": round(len(ref & top) / max(1, len(ref)), 4)}
                per_layer[layer] = {"hist": {"counts": counts.tolist(), "ref": ref_counts.tolist(),
                                             "lo": float(edges[0]), "hi": float(edges[-1])}, "p": per_p}
            entry["combos"][key] = per_layer
        out["networks"][net] = entry
    return out


_CSS = """
.pgd{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:15px;color:#1d1d1f;background:#fff;
border:1px solid #d0d7de;border-radius:8px;padding:12px;line-height:1.4}
.pgd .pgd-controls{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin-bottom:10px}
.pgd label{font-weight:600}.pgd select{font-size:15px;padding:2px 6px;border:1px solid #8c959f;border-radius:4px;
background:#f6f8fa;color:#1d1d1f}
.pgd table{border-collapse:collapse;margin:6px 0;font-size:14px}.pgd td,.pgd th{border-bottom:1px solid #e5e7eb;
padding:3px 8px;text-align:right}.pgd th:first-child,.pgd td:first-child{text-align:left}
.pgd .low{color:#b2182b;font-weight:600}.pgd .note{font-size:13px;color:#444}
.pgd .top{font-family:ui-monospace,monospace;font-size:13px;word-break:break-word}
"""

_JS = """
(function(){
const D=JSON.parse(document.getElementById('pgd-data').textContent);
const $=id=>document.getElementById(id);
function fill(sel,items,label){sel.innerHTML='';items.forEach(v=>{const o=document.createElement('option');
o.value=v;o.textContent=label?label(v):v;sel.appendChild(o);});}
const names=D.combos.map(k=>k.split('|'));
fill($('pgd-net'),Object.keys(D.networks),v=>({vgg16:'VGG-16',alexnet:'AlexNet'})[v]||v);
fill($('pgd-csf'),[...new Set(names.map(n=>n[0]))]);
fill($('pgd-var'),[...new Set(names.map(n=>n[1]))]);
fill($('pgd-p'),D.ps.map(String),v=>v+' %');$('pgd-p').value='25';
function layers(){fill($('pgd-layer'),D.networks[$('pgd-net').value].layers);}
function hist(h,el){const ref={counts:h.ref};const w=420,H=120,n=h.counts.length,m=Math.max(...h.counts,...ref.counts,1);
let s='<svg viewBox="0 0 '+(w+40)+' '+(H+34)+'" width="100%" style="max-width:480px" role="img" aria-label="PE histogram">';
for(let i=0;i<n;i++){const x=30+i*w/n,bh=H*h.counts[i]/m;s+='<rect x="'+x+'" y="'+(8+H-bh)+'" width="'+(w/n-1)+
'" height="'+bh+'" fill="#1b7837" opacity="0.75"/>';}
let d='';for(let i=0;i<n;i++){const x0=30+i*w/n,x1=x0+w/n,y=8+H-H*ref.counts[i]/m;d+=(i?'L':'M')+x0+' '+y+' L'+x1+' '+y;}
s+='<path d="'+d+'" fill="none" stroke="#444" stroke-width="1.5" stroke-dasharray="4 3"/>';
s+='<text x="30" y="'+(H+24)+'" font-size="12">'+h.lo.toFixed(2)+'</text><text x="'+(30+w)+'" y="'+(H+24)+
'" font-size="12" text-anchor="end">'+h.hi.toFixed(2)+'</text><text x="'+(30+w/2)+'" y="'+(H+24)+
'" font-size="12" text-anchor="middle">PE of the live channels</text></svg>';el.innerHTML=s;}
function show(){const N=D.networks[$('pgd-net').value],key=$('pgd-csf').value+'|'+$('pgd-var').value,p=$('pgd-p').value,
L=$('pgd-layer').value,C=N.combos[key],R=N.combos['mannos-sakrison|default'];
let t='<table><tr><th>layer</th><th>live channels</th><th>Jaccard with the default top '+p+' %</th><th>chance</th>'+
'<th>share of the default top set kept</th><th>chance</th></tr>';
N.layers.forEach(l=>{const c=C[l].p[p],ch=N.chance[l][p],low=c.jaccard<=ch.jaccard?' class="low"':'';
t+='<tr><td>'+l+'</td><td>'+N.live[l]+'</td><td'+low+'>'+c.jaccard.toFixed(2)+'</td><td>'+ch.jaccard.toFixed(2)+
'</td><td'+low+'>'+Math.round(100*c.kept)+' %</td><td>'+Math.round(100*ch.kept)+' %</td></tr>';});
$('pgd-table').innerHTML=t+'</table>';hist(C[L].hist,$('pgd-hist'));
const top=C[L].p[p].top,ref=new Set(R[L].p[p].top);
$('pgd-top').innerHTML=top.map(c=>ref.has(c)?String(c):'<b>'+c+'</b>').join(' ');
$('pgd-count').textContent=top.length+' channels; in bold: not in the default top set';}
$('pgd-net').onchange=()=>{layers();show();};['pgd-csf','pgd-var','pgd-p','pgd-layer'].forEach(i=>$(i).onchange=show);
layers();$('pgd-layer').value=D.networks[$('pgd-net').value].layers[1];show();
})();
"""


def playground_html(data: dict[str, Any]) -> str:
    """The page fragment: controls, the per-layer overlap table, the PE histogram and the top set of a layer."""
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (f"<style>{_CSS}</style>"
            '<div class="pgd"><div class="pgd-controls">'
            '<label for="pgd-net">network</label><select id="pgd-net"></select>'
            '<label for="pgd-csf">CSF</label><select id="pgd-csf"></select>'
            '<label for="pgd-var">scoring variant</label><select id="pgd-var"></select>'
            '<label for="pgd-p">top set</label><select id="pgd-p"></select></div>'
            '<div id="pgd-table"></div><p class="note">Red: at or below chance — this scoring keeps no more of the '
            "default top set than a random set of the same size would.</p>"
            '<div class="pgd-controls"><label for="pgd-layer">layer</label><select id="pgd-layer"></select></div>'
            '<div id="pgd-hist"></div><p class="note">Bars: PE of the layer\'s live channels under the chosen '
            "scoring; dashed: under the default scoring (Mannos–Sakrison CSF, default variant), on the same bins "
            "(values outside them counted in the end bins).</p>"
            '<p><b>Top set</b> (<span id="pgd-count"></span>):</p><p class="top" id="pgd-top"></p></div>'
            f'<script type="application/json" id="pgd-data">{payload}</script><script>{_JS}</script>')


def write_playground(out_dir: str | Path, networks: Sequence[str] = ("vgg16", "alexnet")) -> Path:
    """Write the page fragment (:data:`PLAYGROUND_FILE`) into ``out_dir``; return its path."""
    from .cache import atomic_write_text

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the playground folder {out}: {exc}") from None
    return atomic_write_text(out / PLAYGROUND_FILE, playground_html(playground_data(networks)))

