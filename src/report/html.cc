// One self-contained HTML page: the verdict, the findings, the layer timeline and a treemap of
// the filesystem you can click into. Everything is inline (CSS, JS, data) and the page carries
// a Content-Security-Policy that forbids every fetch (default-src 'none'), so it opens offline
// and cannot leak anything. Every string from the image is hostile: text goes through
// html_escape (after base/text.h escape() for control bytes and invalid UTF-8); the treemap data
// is JSON with '<' written as \u003c so it cannot close its <script>, and the script writes names
// with textContent only.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

#include "base/text.h"
#include "report/report.h"

namespace coroner::report {
namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Hostile text for display: C escapes for control bytes and invalid UTF-8, then HTML escapes.
std::string text(std::string_view s, size_t max = 4096) { return html_escape(escape(s, max)); }

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

constexpr std::string_view kStyle = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:0 16px 40px;color:#1b1f24;background:#fff}
h1{font-size:20px;margin:18px 0 4px}h2{font-size:16px;margin:26px 0 8px}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
.meta{color:#57606a}
.verdict{border-radius:6px;padding:12px 16px;margin-top:12px}
.verdict.bad{background:#ffebe9;border:1px solid #ff8182}.verdict.good{background:#dafbe1;border:1px solid #4ac26b}
.verdict h2{margin:0 0 6px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #d0d7de}
th{background:#f6f8fa;font-weight:600}
.sev{font-weight:600;text-transform:uppercase;font-size:11px}.sev-error{color:#cf222e}.sev-warning{color:#9a6700}.sev-info{color:#0969da}
.fix{color:#1a7f37}.ev{color:#57606a;margin:2px 0 0 0;padding-left:16px}
.bar{position:relative;height:12px;background:#ddf4ff;min-width:1px}.bar .w{position:absolute;right:0;top:0;bottom:0;background:#ff8182}
#crumbs span{cursor:pointer;color:#0969da}#crumbs span:hover{text-decoration:underline}
#tm{position:relative;height:460px;border:1px solid #d0d7de;margin-top:6px;overflow:hidden}
.tm-box{position:absolute;box-sizing:border-box;border:1px solid #fff;overflow:hidden;font-size:11px;padding:2px 3px;color:#1b1f24}
.tm-box.dir{cursor:pointer}.tm-box.dir:hover{outline:2px solid #0969da;z-index:1}
.tm-box.folded{background-image:repeating-linear-gradient(45deg,transparent 0 6px,rgba(255,255,255,.35) 6px 12px)}
)css";

// Squarified treemap (Bruls, Huizing, van Wijk 2000) over one directory at a time; a click on a
// directory zooms into it, the breadcrumbs zoom out.
constexpr std::string_view kScript = R"js(
(function(){
"use strict";
var data=JSON.parse(document.getElementById("fs-data").textContent);
var tm=document.getElementById("tm"),crumbs=document.getElementById("crumbs");
function N(a){return{name:a[0],bytes:a[1],files:a[2],layer:a[3],dir:!!a[4],folded:!!a[5],kids:a[6]||[]};}
function human(n){var u=["B","KiB","MiB","GiB","TiB"],i=0;while(n>=1024&&i<4){n/=1024;i++;}return (i?n.toFixed(1):n)+" "+u[i];}
function worst(row,side){var s=0,mx=0,mn=Infinity;row.forEach(function(r){s+=r.a;mx=Math.max(mx,r.a);mn=Math.min(mn,r.a);});
  return Math.max(side*side*mx/(s*s),(s*s)/(side*side*mn));}
function place(row,b,out){var s=0;row.forEach(function(r){s+=r.a;});
  if(b.w>=b.h){var cw=s/b.h,y=b.y;row.forEach(function(r){var h=r.a/cw;out.push({n:r.n,x:b.x,y:y,w:cw,h:h});y+=h;});return{x:b.x+cw,y:b.y,w:b.w-cw,h:b.h};}
  var rh=s/b.w,x=b.x;row.forEach(function(r){var w=r.a/rh;out.push({n:r.n,x:x,y:b.y,w:w,h:rh});x+=w;});return{x:b.x,y:b.y+rh,w:b.w,h:b.h-rh};}
function squarify(nodes,W,H){var total=0;nodes.forEach(function(n){total+=n.bytes;});if(!total)return[];
  var items=nodes.map(function(n){return{n:n,a:n.bytes*W*H/total};}),out=[],row=[],b={x:0,y:0,w:W,h:H};
  while(items.length){var side=Math.min(b.w,b.h),c=items[0];
    if(!row.length||worst(row.concat([c]),side)<=worst(row,side)){row.push(c);items.shift();continue;}
    b=place(row,b,out);row=[];}
  if(row.length)place(row,b,out);return out;}
function color(layer){return "hsl("+((layer*67)%360)+",55%,78%)";}
var stack=[N(data)];
function draw(){
  var cur=stack[stack.length-1];tm.textContent="";crumbs.textContent="";
  stack.forEach(function(n,i){var s=document.createElement("span");s.textContent=(i?n.name:"/")+(i<stack.length-1?" ▸ ":"");
    s.onclick=function(){stack=stack.slice(0,i+1);draw();};crumbs.appendChild(s);});
  var kids=cur.kids.map(N).filter(function(k){return k.bytes>0;});
  var W=tm.clientWidth||800,H=tm.clientHeight||460;
  squarify(kids,W,H).forEach(function(r){var d=document.createElement("div");
    d.className="tm-box"+(r.n.dir&&r.n.kids.length?" dir":"")+(r.n.folded?" folded":"");
    d.style.left=r.x+"px";d.style.top=r.y+"px";d.style.width=r.w+"px";d.style.height=r.h+"px";
    d.style.background=r.n.folded?"#d0d7de":color(r.n.layer);
    d.title=r.n.name+"\n"+human(r.n.bytes)+", "+r.n.files+" files"+(r.n.folded?"":", layer "+r.n.layer);
    if(r.w>40&&r.h>14)d.textContent=r.n.name+" "+human(r.n.bytes);
    if(r.n.dir&&r.n.kids.length)d.onclick=function(){stack.push(r.n);draw();};
    tm.appendChild(d);});
  if(!kids.length){var p=document.createElement("p");p.className="meta";p.textContent="(no file content here)";tm.appendChild(p);}
}
draw();window.addEventListener("resize",draw);
})();
)js";

nlohmann::json dir_json(const DirSize& d) {
  nlohmann::json kids = nlohmann::json::array();
  for (const DirSize& c : d.children) kids.push_back(dir_json(c));
  return nlohmann::json::array(
      {d.name, d.bytes, d.files, d.layer, d.dir ? 1 : 0, d.folded ? 1 : 0, kids});
}

// JSON inside <script>: only "<" could end the element ("</script>", "<!--"); inside JSON it
// can only occur in strings, where \u003c means the same.
std::string script_json(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string chain_html(const std::vector<std::string>& chain) {
  std::string s;
  for (const std::string& c : chain) s += (s.empty() ? "" : " → ") + text(c);
  return s;
}

void verdict_html(const Report& r, std::string& o) {
  const rules::Verdict& v = r.verdict;
  o += "<section id=\"verdict\" class=\"verdict ";
  o += v.starts ? "good\">" : "bad\">";
  if (v.starts) {
    o += "<h2>The container starts</h2>";
  } else {
    o += "<h2>The container will not start</h2>";
    if (!v.predicted_error.empty()) {
      o += "<p>Docker prints <code>" + text(v.predicted_error) + "</code>";
      if (v.predicted_exit) o += " (exit code " + std::to_string(*v.predicted_exit) + ")";
      o += "</p>";
    }
    o += "<p>Reason: <code>" + text(v.reason.value_or("?")) + "</code></p>";
  }
  if (!v.exec_chain.empty()) o += "<p class=\"mono\">" + chain_html(v.exec_chain) + "</p>";
  o += "<p class=\"meta\">as " + text(r.image.user.empty() ? "root" : r.image.user) + ", runtime " +
       text(r.runtime) + "</p></section>\n";
}

void findings_html(const Report& r, std::string& o) {
  o += "<section id=\"findings\"><h2>Findings (" + std::to_string(r.findings.size()) + ")</h2>";
  if (r.findings.empty()) {
    o += "<p>No findings.</p></section>\n";
    return;
  }
  o += "<table><thead><tr><th>severity</th><th>rule</th><th>path</th><th>layer</th>"
       "<th>what and fix</th></tr></thead><tbody>\n";
  for (const rules::Finding& f : r.findings) {
    std::string_view sev = rules::severity_name(f.severity);
    o += "<tr class=\"finding\"><td class=\"sev sev-" + std::string(sev) + "\">" +
         std::string(sev) + "</td><td><code>" + text(f.rule) + "</code></td><td><code>" +
         text(f.path) + "</code></td><td>";
    if (f.layer_index) {
      o += std::to_string(*f.layer_index);
      if (!f.created_by.empty()) o += "<br><code>" + text(f.created_by, 200) + "</code>";
    }
    o += "</td><td>" + text(f.message);
    if (!f.evidence.empty()) {
      o += "<ul class=\"ev\">";
      for (const std::string& e : f.evidence) o += "<li>" + text(e) + "</li>";
      o += "</ul>";
    }
    if (!f.fix.empty()) o += "<div class=\"fix\">fix: " + text(f.fix) + "</div>";
    o += "</td></tr>\n";
  }
  o += "</tbody></table></section>\n";
}

void layers_html(const Report& r, std::string& o) {
  if (r.layers.empty()) return;
  uint64_t max = 1;
  uint64_t wasted = 0;
  for (const LayerRow& l : r.layers) {
    max = std::max(max, l.size);
    wasted += l.wasted_bytes;
  }
  o += "<section id=\"layers\"><h2>Layers (" + std::to_string(r.layers.size()) + ", " +
       human_bytes(wasted) +
       " wasted)</h2><table><thead><tr><th>#</th><th>created by</th>"
       "<th style=\"width:28%\">size <span class=\"meta\">(red: wasted)</span></th><th>size</th>"
       "<th>wasted</th><th>+ / ~ / −</th></tr></thead><tbody>\n";
  for (const LayerRow& l : r.layers) {
    char width[64], waste[64];
    std::snprintf(width, sizeof width, "%.2f%%", 100.0 * static_cast<double>(l.size) / max);
    double wf =
        l.size ? 100.0 * static_cast<double>(std::min(l.wasted_bytes, l.size)) / l.size : 0.0;
    std::snprintf(waste, sizeof waste, "%.2f%%", wf);
    o += "<tr class=\"layer\"><td>" + std::to_string(l.index) + "</td><td><code>" +
         text(l.created_by.empty() ? "(no history)" : l.created_by, 300) +
         "</code><br><span class=\"meta mono\">" + text(l.digest, 80) +
         "</span></td><td><div class=\"bar\" style=\"width:" + width +
         "\"><div class=\"w\" style=\"width:" + waste + "\"></div></div></td><td>" +
         human_bytes(l.size) + "</td><td>" + human_bytes(l.wasted_bytes) + "</td><td>" +
         std::to_string(l.added) + " / " + std::to_string(l.modified) + " / " +
         std::to_string(l.deleted) + "</td></tr>\n";
  }
  o += "</tbody></table></section>\n";
}

void treemap_html(const Report& r, std::string& o) {
  if (!r.filesystem) return;
  o += "<section id=\"filesystem\"><h2>Filesystem (" + human_bytes(r.filesystem->root.bytes) +
       ", " + std::to_string(r.filesystem->root.files) +
       " files)</h2><p class=\"meta\">Box area is content size, colour is the layer; click a "
       "directory to open it. Hatched boxes are folded (small entries, deep levels).</p>"
       "<div id=\"crumbs\"></div><div id=\"tm\"></div></section>\n"
       "<script id=\"fs-data\" type=\"application/json\">" +
       script_json(dir_json(r.filesystem->root)) + "</script>\n<script>" + std::string(kScript) +
       "</script>\n";
}

}  // namespace

std::string to_html(const Report& r) {
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
       "<meta name=\"generator\" content=\"coroner " +
       std::string(tool_version()) + "\">\n<title>coroner: " + text(r.image.ref, 200) +
       "</title>\n<style>" + std::string(kStyle) + "</style></head><body>\n";
  o += "<h1>coroner diagnosis</h1><p class=\"meta\"><code>" + text(r.image.ref) + "</code>";
  if (!r.image.platform.empty()) o += " (" + text(r.image.platform) + ")";
  o += ", " + std::to_string(r.image.layers) + " layers, " + std::to_string(r.stats.files) +
       " files, " + human_bytes(r.stats.bytes) + "</p>\n";
  verdict_html(r, o);
  findings_html(r, o);
  layers_html(r, o);
  treemap_html(r, o);
  if (!r.notes.empty()) {
    o += "<section id=\"notes\"><h2>Notes</h2><ul>";
    for (const std::string& n : r.notes) o += "<li>" + text(n) + "</li>";
    o += "</ul></section>\n";
  }
  o += "</body></html>\n";
  return o;
}

}  // namespace coroner::report
