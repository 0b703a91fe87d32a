"""An offline channel explorer for the book: every channel's tuning, scores and feature maps in one static page.

:func:`explorer_data` gathers, from the stored paper-grid probe of each network, every channel's frequency
tuning (with the CSF), its orientation tuning at f̂, its scores (μ1, μ2, PE, f̂, θ̂, PE rank, dead) and its
feature map on a few photographs (each map scaled to its own maximum, packed as one greyscale JPEG sprite per
layer). :func:`explorer_html` turns that into one HTML fragment with its data, style and script inline (no
remote file, no kernel); :func:`write_explorer` writes it where the book includes it (``pecore book`` calls it
before Jupyter Book runs).
"""
from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .orientation import silent_at_fhat
from .errors import DatasetError, OutputError, ParameterError

__all__ = ["PHOTOS", "EXPLORER_FILE", "explorer_data", "explorer_html", "write_explorer"]

#: the photographs the feature maps are shown on: names of :data:`pecore.imageio.BUNDLED_PHOTOGRAPHS`, which ship
#: with scikit-image, so the explorer is built without any dataset
PHOTOS: tuple[str, ...] = ("chelsea", "astronaut", "brick")
#: The file :func:`write_explorer` writes (the book's ``explorer.md`` includes it as raw HTML).
EXPLORER_FILE = "explorer.html"
LABELS = {"vgg16": "VGG-16", "alexnet": "AlexNet"}


def _jpeg(pixels: np.ndarray, quality: int) -> str:
    """A uint8 (H, W) or (H, W, 3) array as a JPEG data URI."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _photos(photos: Sequence[str], size: int) -> Any:
    """The bundled photographs ``photos`` as a ``(B, 3, size, size)`` tensor in [0, 1] (centre square crops)."""
    import torch

    from .imageio import bundled_photograph, centre_square

    if isinstance(photos, str) or not photos:
        raise ParameterError(f"photos must be a non-empty list of bundled photograph names, got {photos!r}")
    return torch.stack([centre_square(bundled_photograph(name, size=size)) for name in photos])


def _sprite(maps: Any, side: int, quality: int) -> dict[str, Any]:
    """One layer's maps ``(B, C, H, W)`` as a JPEG sprite of tiles ``channel * B + photo``, each scaled to its max.

    Tiles are padded (edge-replicated) to a multiple of 8 pixels so that no JPEG block mixes two maps.
    """
    import torch.nn.functional as F

    b, c, h, w = maps.shape
    s = min(h, side)
    if h > s:
        maps = F.adaptive_avg_pool2d(maps, (s, max(1, round(w * s / h))))
    arr = maps.double().numpy().transpose(1, 0, 2, 3)  # (C, B, h', w')
    peak = arr.max(axis=(2, 3))
    norm = np.where(peak[..., None, None] > 0, arr / np.where(peak > 0, peak, 1)[..., None, None], 0.0)
    tiles = np.rint(np.clip(norm, 0, 1) * 255).astype(np.uint8)
    th, tw = (8 * math.ceil(n / 8) for n in tiles.shape[2:])
    tiles = np.pad(tiles, ((0, 0), (0, 0), (0, th - tiles.shape[2]), (0, tw - tiles.shape[3])), mode="edge")
    n = c * b
    cols = b * math.ceil(math.sqrt(c))
    rows = math.ceil(n / cols)
    flat = np.concatenate([tiles.reshape(n, th, tw), np.zeros((rows * cols - n, th, tw), np.uint8)])
    sheet = flat.reshape(rows, cols, th, tw).transpose(0, 2, 1, 3).reshape(rows * th, cols * tw)
    return {"h": int(arr.shape[2]), "w": int(arr.shape[3]), "th": th, "tw": tw, "cols": cols,
            "native": [int(h), int(w)], "peak": [[float(f"{v:.4g}") for v in row] for row in peak],
            "sprite": _jpeg(sheet, quality)}


def _ints(values: np.ndarray) -> list[list[int]]:
    """Each row divided by its maximum, in thousandths (zeros stay zeros)."""
    peak = values.max(axis=1, keepdims=True)
    return np.rint(1000 * values / np.where(peak > 0, peak, 1)).astype(int).tolist()


def _plain(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _network_data(network: str, photos: Any, map_side: int, quality: int) -> dict[str, Any]:
    """One network's probe curves and scores (from its stored probe) and its feature-map sprites."""
    import torch

    from . import load_network, load_probe_result
    from .efficacy import ScoreConfig
    from .networks import NETWORKS
    from .notebook import figure_label, stored_probe_dir
    from .validate import check_choice

    check_choice("network", network, NETWORKS)
    folder = stored_probe_dir(network)
    if not (folder / "pe_table.csv").is_file():
        raise DatasetError(f"no stored probe of {network} (expected {folder.name}/pe_table.csv among the stored results)")
    result = load_probe_result(folder)
    config = ScoreConfig(**result.provenance.get("parameters", {}).get("score_config", {}))
    freqs = result.frequency.frequencies
    csf = np.asarray(config.csf_function()(freqs), float)
    net = load_network(network, device="cpu")
    layers = list(dict.fromkeys(result.table.layer))
    with torch.no_grad():
        maps = net.extractor(photos, layers)
    out: dict[str, Any] = {"label": LABELS.get(network, network), "layer_names": layers,
                           "frequencies": [round(float(f), 4) for f in freqs],
                           "orientations": [float(o) for o in result.orientation.orientations],
                           "csf": [round(float(v), 4) for v in csf / csf.max()], "csf_name": config.csf,
                           "source": figure_label({**result.provenance, "stored": True}), "layers": {}}
    for layer in layers:
        rows = result.layer(layer)
        if rows.channel.tolist() != list(range(len(rows))):
            raise DatasetError(f"the stored probe of {network} does not list the channels of {layer} as 0, 1, 2, ...")
        sweep = result.frequency.responses[layer]
        out["layers"][layer] = {
            "n": len(rows), **{k: [_plain(v) for v in rows[k]] for k in ("mu1", "mu2", "pe")},
            "fhat": [_plain(v) for v in rows.fhat],
            # no θ̂ where the channel answers no straight grating at f̂: its 0° is a convention, not a measurement
            "theta": [None if s else _plain(v) for v, s in zip(rows.theta_hat, silent_at_fhat(rows))],
            "rank": rows["rank"].astype(int).tolist(), "dead": rows.dead.astype(bool).tolist(),
            "fprobe": [_plain(v) for v in result.orientation.frequency[layer]],
            "peak": [float(f"{v:.4g}") for v in sweep.max(axis=1)], "freq": _ints(sweep),
            "orient": _ints(result.orientation.responses[layer]),
            "maps": _sprite(maps[layer], map_side, quality)}
    return out


def explorer_data(networks: Sequence[str] = ("vgg16", "alexnet"), photos: Sequence[str] = PHOTOS,
                  *, photo_size: int = 224, map_side: int = 56, quality: int = 80) -> dict[str, Any]:
    """Everything the explorer page shows, as a JSON-ready dict.

    Parameters
    ----------
    networks
        Networks with a stored paper-grid probe (``"vgg16"``, ``"alexnet"``).
    photos
        Names of the photographs for the feature maps (:data:`pecore.imageio.BUNDLED_PHOTOGRAPHS`).
    photo_size
        Side (pixels) of the centre square crop each photograph is shown to the networks at.
    map_side
        Feature maps larger than this are averaged down to it (pixels) before they are stored.
    quality
        JPEG quality of the feature-map sprites.

    Returns
    -------
    dict
        ``networks`` (per network: frequencies, orientations, normalised CSF, and per layer every channel's
        scores, tuning curves in thousandths of their maximum and a feature-map sprite), ``photos`` (names,
        data sets, small JPEG data URIs) and ``colormap`` (256 RGB entries, base64).

    Raises
    ------
    UnknownNameError
        A network pecore does not know, or a photograph not among the bundled ones.
    ParameterError
        ``networks`` or ``photos`` not a non-empty list, or ``map_side`` / ``quality`` out of range.
    DatasetError
        A network without a stored probe (or one stored by an older pecore).

    Examples
    --------
    >>> d = explorer_data(["alexnet"])
    >>> d["networks"]["alexnet"]["layers"]["relu1"]["n"], len(d["photos"])
    (64, 3)
    """
    import matplotlib

    if isinstance(networks, str) or not networks:
        raise ParameterError(f"networks must be a non-empty list of network names, got {networks!r}")
    for name, value, low, high in (("map_side", map_side, 4, 512), ("quality", quality, 10, 95)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ParameterError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    batch = _photos(photos, photo_size)
    thumbs = np.rint(batch.permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)
    small = [_jpeg(np.asarray(_resize(t, 112)), 85) for t in thumbs]
    lut = np.rint(matplotlib.colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    return {"networks": {n: _network_data(n, batch, map_side, quality) for n in networks},
            "photos": [{"name": p, "dataset": "scikit-image", "src": s} for p, s in zip(photos, small)],
            "photo_size": photo_size, "colormap": base64.b64encode(lut.tobytes()).decode("ascii")}


def _resize(pixels: np.ndarray, side: int) -> Any:
    from PIL import Image

    return Image.fromarray(pixels).resize((side, side), Image.Resampling.LANCZOS)


def explorer_html(data: dict[str, Any], standalone: bool = False) -> str:
    """The explorer as one HTML fragment (or a whole page if ``standalone``) with its data, style and script inline.

    Examples
    --------
    >>> page = explorer_html({"networks": {}, "photos": [], "colormap": ""}, standalone=True)
    >>> page.startswith("<!DOCTYPE html>"), '<script type="application/json" id="pex-data">' in page
    (True, True)
    """
    blob = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    body = (f'<div id="pe-explorer" class="pex"><style>{_CSS}</style>{_BODY}'
            f'<script type="application/json" id="pex-data">{blob}</script><script>{_JS}</script></div>')
    if not standalone:
        return body
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>pecore channel explorer</title>'
            f'</head><body style="max-width:690px;margin:1em auto">{body}</body></html>')


def write_explorer(out_dir: str | Path, networks: Sequence[str] = ("vgg16", "alexnet"), standalone: bool = False,
                   **kwargs: Any) -> Path:
    """Write the explorer (:data:`EXPLORER_FILE`) into ``out_dir``; return its path.

    ``kwargs`` go to :func:`explorer_data`. The book includes the fragment (``standalone=False``) as raw HTML.

    Examples
    --------
    >>> import tempfile
    >>> p = write_explorer(tempfile.mkdtemp(), ["alexnet"], standalone=True)
    >>> p.name, p.stat().st_size < 10_000_000
    ('explorer.html', True)
    """
    from .cache import atomic_write_text

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the explorer folder {out}: {exc}") from None
    path = out / EXPLORER_FILE
    atomic_write_text(path, explorer_html(explorer_data(networks, **kwargs), standalone))
    return path


_CSS = """
.pex{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:15px;color:#1d1d1f;
background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 12px;line-height:1.4}
.pex .pex-controls{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;margin-bottom:10px}
.pex label{font-weight:600}.pex select,.pex input[type=number],.pex button{font-size:15px;padding:2px 6px;
border:1px solid #8c959f;border-radius:4px;background:#f6f8fa;color:#1d1d1f}
.pex input[type=number]{width:4.6em}.pex input[type=range]{width:100%;margin:2px 0 8px}
.pex .pex-row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;justify-content:space-between}
.pex svg{font-size:13px;display:block;max-width:100%;height:auto}.pex svg text{fill:#333}
.pex .pex-fhat{font-size:15px;line-height:1}
.pex h4{margin:10px 0 4px;font-size:16px;color:#1d1d1f}.pex .pex-note{font-size:13px;color:#555}
.pex table.pex-scores{border-collapse:collapse;font-size:15px;margin:0}
.pex table.pex-scores td:first-child{white-space:nowrap;padding-right:14px}
.pex table.pex-scores td{padding:2px 10px 2px 0;border:0;background:none;color:#1d1d1f}
.pex table.pex-scores td:nth-child(2){font-variant-numeric:tabular-nums;font-weight:600}
.pex .pex-dead{color:#b42318;font-weight:700}.pex .pex-live{color:#1a7f37;font-weight:700}
.pex .pex-maps{display:flex;flex-wrap:wrap;gap:12px}.pex .pex-fig{margin:0;padding:0;text-align:center}
.pex .pex-fig canvas{width:136px;height:136px;image-rendering:auto;border:1px solid #ccc;display:block}
.pex .pex-fig img{width:60px;height:60px;border:1px solid #ccc;display:block}
.pex .pex-pair{display:flex;gap:6px;align-items:flex-end}.pex .pex-cap{font-size:13px;color:#444;margin:3px 0 8px}
.pex .pex-bar{height:12px;width:150px;display:inline-block;vertical-align:middle;border:1px solid #ccc}
"""

_BODY = """
<div class="pex-controls">
 <span><label for="pex-net">Network</label> <select id="pex-net"></select></span>
 <span><label for="pex-layer">Layer</label> <select id="pex-layer"></select></span>
 <span><label for="pex-ch">Channel</label> <button id="pex-prev" title="previous channel">&#9664;</button>
  <input id="pex-ch" type="number" min="0" value="0"> <button id="pex-next" title="next channel">&#9654;</button>
  <span id="pex-of" class="pex-note"></span></span>
 <span><label for="pex-rank">or PE rank</label> <input id="pex-rank" type="number" min="1" value="1"></span>
</div>
<input id="pex-slider" type="range" min="0" value="0" aria-label="channel">
<div class="pex-row">
 <div><h4>Frequency tuning</h4><svg id="pex-freq" width="372" height="290" viewBox="0 0 372 290"
   role="img" aria-label="frequency tuning curve"></svg></div>
 <div><h4>Orientation tuning at f&#770;</h4><svg id="pex-polar" width="272" height="300"
   viewBox="0 0 272 300" role="img" aria-label="polar orientation tuning"></svg></div>
</div>
<p class="pex-note" id="pex-help"></p>
<h4>Scores</h4><table class="pex-scores"><tbody id="pex-scores"></tbody></table>
<h4>Feature maps on photographs</h4>
<p class="pex-note">Each map is scaled to its own maximum: black = 0, bright =
 <span class="pex-bar" id="pex-bar"></span> the map's largest activation (given below it).</p>
<div class="pex-maps" id="pex-maps"></div>
<p class="pex-note" id="pex-source"></p>
"""

_JS = r"""
(function(){
const R=document.getElementById("pe-explorer"),D=JSON.parse(document.getElementById("pex-data").textContent);
const $=id=>document.getElementById(id),NS="http://www.w3.org/2000/svg",sprites={};
const lut=Uint8Array.from(atob(D.colormap),c=>c.charCodeAt(0));
const net=$("pex-net"),lay=$("pex-layer"),ch=$("pex-ch"),sl=$("pex-slider"),rk=$("pex-rank");
const N=()=>D.networks[net.value],L=()=>N().layers[lay.value];
function el(tag,a,p,t){const e=document.createElementNS(NS,tag);for(const k in a)e.setAttribute(k,a[k]);
 if(t!==undefined)e.textContent=t;if(p)p.appendChild(e);return e;}
function opts(s,items){s.innerHTML="";items.forEach(([v,t])=>{const o=document.createElement("option");
 o.value=v;o.textContent=t;s.appendChild(o);});}
const fmt=v=>v===null?"—":v===0?"0":(Math.abs(v)>=100?v.toFixed(0):v.toPrecision(3));
const csfName=s=>s.split("-").map(w=>w[0].toUpperCase()+w.slice(1)).join("–");
function freqPlot(c){const s=$("pex-freq"),n=N(),l=L(),f=n.frequencies,W=372,H=290,m={l:52,r:12,t:44,b:46};
 s.innerHTML="";const f0=f[0],f1=f[f.length-1],X=v=>m.l+Math.log(v/f0)/Math.log(f1/f0)*(W-m.l-m.r),
 Y=v=>H-m.b-v*(H-m.t-m.b);
 [0.5,1,2,5,10,20,30].filter(t=>t>=f0*0.999&&t<=f1*1.001).forEach(t=>{el("line",{x1:X(t),x2:X(t),y1:Y(0),y2:Y(1),
  stroke:"#e5e5e5"},s);el("text",{x:X(t),y:Y(0)+17,"text-anchor":"middle"},s,t);});
 [0,0.25,0.5,0.75,1].forEach(t=>{el("line",{x1:X(f0),x2:X(f1),y1:Y(t),y2:Y(t),stroke:"#e5e5e5"},s);
  el("text",{x:m.l-6,y:Y(t)+4,"text-anchor":"end"},s,t);});
 el("path",{d:"M"+X(f0)+","+Y(0)+f.map((v,i)=>"L"+X(v)+","+Y(n.csf[i])).join("")+"L"+X(f1)+","+Y(0)+"Z",
  fill:"#d6dbe1",stroke:"#9aa4ae"},s);
 el("polyline",{points:f.map((v,i)=>X(v)+","+Y(l.freq[c][i]/1000)).join(" "),fill:"none",stroke:"#1f5fbf",
  "stroke-width":2.5},s);
 if(l.fhat[c]!==null){const x=X(l.fhat[c]);el("line",{x1:x,x2:x,y1:Y(0),y2:Y(1),stroke:"#c2410c",
  "stroke-width":1.8,"stroke-dasharray":"5 4"},s);const t=el("text",{x:Math.min(Math.max(x,m.l+45),W-m.r-45),y:Y(1)-6,
  fill:"#c2410c","text-anchor":"middle"},s,"f");el("tspan",{dx:"-0.5em",dy:"-0.32em"},t,"ˆ");
  el("tspan",{dx:"0.02em",dy:"0.32em"},t," = "+fmt(l.fhat[c])+" cpd");}
 el("rect",{x:X(f0),y:Y(1),width:X(f1)-X(f0),height:Y(0)-Y(1),fill:"none",stroke:"#999"},s);
 el("text",{x:(X(f0)+X(f1))/2,y:H-10,"text-anchor":"middle"},s,"spatial frequency (cycles per degree, log scale)");
 el("text",{transform:"translate(15,"+(Y(0.5))+") rotate(-90)","text-anchor":"middle"},s,"mean activation / max");
 const g=el("g",{transform:"translate(6,4)"},s);
 el("line",{x1:0,x2:18,y1:8,y2:8,stroke:"#1f5fbf","stroke-width":2.5},g);el("text",{x:24,y:12},g,"this channel");
 el("rect",{x:118,y:2,width:16,height:11,fill:"#d6dbe1",stroke:"#9aa4ae"},g);
 el("text",{x:140,y:12},g,"CSF ("+csfName(n.csf_name)+")");}
function polarPlot(c){const s=$("pex-polar"),n=N(),l=L(),cx=136,cy=142,r=98,q0=75*Math.PI/180;s.innerHTML="";
 [0.25,0.5,0.75,1].forEach(t=>el("circle",{cx:cx,cy:cy,r:r*t,fill:"none",stroke:"#e0e0e0"},s));
 for(let a=0;a<360;a+=30){const q=a*Math.PI/180;el("line",{x1:cx,y1:cy,x2:cx+r*Math.cos(q),y2:cy-r*Math.sin(q),
  stroke:"#e0e0e0"},s);el("text",{x:cx+(r+16)*Math.cos(q),y:cy-(r+16)*Math.sin(q)+4,"text-anchor":"middle"},s,a+"°");}
 const o=n.orientations,v=l.orient[c],pts=[];for(const k of [0,180])o.forEach((t,i)=>{const q=(t+k)*Math.PI/180;
  pts.push((cx+r*v[i]/1000*Math.cos(q)).toFixed(1)+","+(cy-r*v[i]/1000*Math.sin(q)).toFixed(1));});
 el("polygon",{points:pts.join(" "),fill:"rgba(31,95,191,0.18)",stroke:"#1f5fbf","stroke-width":2.2},s);
 if(l.theta[c]!==null&&!l.dead[c])[0.25,0.5,0.75,1].forEach(t=>el("text",{x:cx+r*t*Math.cos(q0)+2,y:cy-r*t*Math.sin(q0)+4,"font-size":12,
  fill:"#555",stroke:"#fff","stroke-width":3,"paint-order":"stroke"},s,t));
 if(l.theta[c]!==null&&!l.dead[c])for(const k of [0,180]){const q=(l.theta[c]+k)*Math.PI/180;
  el("line",{x1:cx,y1:cy,x2:cx+r*Math.cos(q),y2:cy-r*Math.sin(q),stroke:"#c2410c","stroke-width":1.8,
  "stroke-dasharray":"5 4"},s);}
 if(l.theta[c]===null||l.dead[c]){el("rect",{x:cx-70,y:cy-22,width:140,height:44,rx:4,fill:"#fff",
  stroke:"#b42318"},s);const w=l.dead[c]?["dead: no response","to any grating"]:["no response to","straight gratings"];
  w.forEach((t,i)=>el("text",{x:cx,y:cy-4+17*i,"text-anchor":"middle",fill:"#b42318"},s,t));}
 el("text",{x:cx,y:276,"text-anchor":"middle"},s,l.fprobe[c]===null?"no tuning (dead channel)":
  "grating orientation θ, at "+fmt(l.fprobe[c])+" cpd");
 el("text",{x:cx,y:294,"text-anchor":"middle"},s,"radius: mean activation / max");}
function scores(c){const l=L(),rows=[["μ1 (frequency sensitivity)",fmt(l.mu1[c])],
 ["μ2 (orientation selectivity)",fmt(l.mu2[c])],["PE (perceptual efficacy)",fmt(l.pe[c])],
 ["f̂ (preferred frequency)",l.fhat[c]===null?"—":fmt(l.fhat[c])+" cycles/degree"],
 ["θ̂ (preferred orientation)",l.dead[c]||l.theta[c]===null?"—":l.theta[c].toFixed(0)+"°"],
 ["PE rank in "+lay.value,l.rank[c]+" of "+l.n+" (1 = highest)"],
 ["largest mean activation",fmt(l.peak[c])],
 ["status",l.dead[c]?'<span class="pex-dead">dead: no response to any grating</span>':
  l.theta[c]===null?'<span class="pex-dead">answers radial gratings only: no straight grating at f̂ (μ2 = 0, no θ̂)</span>':
  '<span class="pex-live">responds to gratings</span>']];
 $("pex-scores").innerHTML=rows.map(r=>"<tr><td>"+r[0]+"</td><td>"+r[1]+"</td></tr>").join("");}
function sprite(cb){const k=net.value+"/"+lay.value;if(sprites[k]&&sprites[k].complete)return cb(sprites[k]);
 const img=sprites[k]||(sprites[k]=new Image());img.addEventListener("load",()=>cb(img),{once:true});
 if(!img.src)img.src=L().maps.sprite;}
function maps(c){const M=L().maps,box=$("pex-maps"),B=D.photos.length;box.innerHTML="";const cv=[];
 D.photos.forEach((p,b)=>{const f=document.createElement("div"),pk=M.peak[c][b];
  f.className="pex-fig";f.innerHTML='<div class="pex-pair"><img alt="'+p.name+'" src="'+p.src+'"><canvas width="'+M.w+'" height="'+M.h+
  '"></canvas></div><div class="pex-cap">'+p.name+" ("+p.dataset+"): "+(pk>0?"max "+fmt(pk):"no activation")+"</div>";
  box.appendChild(f);cv.push(f.querySelector("canvas"));});
 sprite(img=>{if(ch.value!=c)return;cv.forEach((cvs,b)=>{const k=c*B+b,g=cvs.getContext("2d");
  g.drawImage(img,(k%M.cols)*M.tw,Math.floor(k/M.cols)*M.th,M.w,M.h,0,0,M.w,M.h);
  const d=g.getImageData(0,0,M.w,M.h);for(let i=0;i<d.data.length;i+=4){const v=d.data[i]*3;
  d.data[i]=lut[v];d.data[i+1]=lut[v+1];d.data[i+2]=lut[v+2];}g.putImageData(d,0,0);});});
 const M2=L().maps.native;$("pex-source").textContent="Feature maps of "+lay.value+" ("+M2[0]+" × "+M2[1]+
  " positions"+(M2[0]>M.h?", averaged down to "+M.h+" × "+M.w:"")+") for the "+D.photo_size+
  " × "+D.photo_size+"-pixel photographs shown left. Probe data: "+N().source+".";}
function show(c){const l=L();c=Math.max(0,Math.min(l.n-1,isNaN(c)?0:c));ch.value=c;sl.value=c;rk.value=l.rank[c];
 freqPlot(c);polarPlot(c);scores(c);maps(c);
 if(history.replaceState)history.replaceState(null,"","#"+[net.value,lay.value,c].join("/"));}
function layerChanged(){const l=L();ch.max=l.n-1;sl.max=l.n-1;rk.max=l.n;$("pex-of").textContent="of 0–"+(l.n-1);
 show(+ch.value);}
function netChanged(){opts(lay,N().layer_names.map(v=>[v,v]));layerChanged();}
opts(net,Object.keys(D.networks).map(k=>[k,D.networks[k].label]));
net.onchange=netChanged;lay.onchange=layerChanged;ch.onchange=()=>show(+ch.value);sl.oninput=()=>show(+sl.value);
$("pex-prev").onclick=()=>show(+ch.value-1);$("pex-next").onclick=()=>show(+ch.value+1);
rk.onchange=()=>{const i=L().rank.indexOf(+rk.value);if(i>=0)show(i);};
const bar=document.createElement("canvas");bar.width=256;bar.height=1;const bg=bar.getContext("2d"),
 bd=bg.createImageData(256,1);for(let i=0;i<256;i++){bd.data.set([lut[3*i],lut[3*i+1],lut[3*i+2],255],4*i);}
bg.putImageData(bd,0,0);$("pex-bar").style.background="url("+bar.toDataURL()+") 0 0/100% 100%";
$("pex-help").innerHTML="How to read it. Blue: the channel's mean activation to gratings of each spatial frequency, divided by "+
 "its largest value. Grey: the contrast sensitivity function (CSF), by which μ1 weights the slope of the blue "+
 "curve. Dashed: <span class=\"pex-fhat\">f̂</span>, where that weighted slope is steepest, and θ̂. The orientation tuning is 180°-periodic, so "+
 "it is drawn twice round the circle; θ = 0° is vertical bars, 90° horizontal bars.";
const h=decodeURIComponent(location.hash.slice(1)).split("/");
if(D.networks[h[0]]){net.value=h[0];opts(lay,N().layer_names.map(v=>[v,v]));
 if(N().layers[h[1]]){lay.value=h[1];ch.value=+h[2]||0;}layerChanged();}else netChanged();
})();
"""
