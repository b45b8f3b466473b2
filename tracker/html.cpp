// tracker/html.cpp — see html.h.
#include "tracker/html.h"

namespace mhr::tracker {

std::string escapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
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

const char* const kPageCheckScript = R"JS(
(function(){
  var root=document.documentElement;
  window.addEventListener('error',function(){root.setAttribute('data-render','error');});
  window.addEventListener('load',function(){
    try{
      var plots=document.querySelectorAll('svg.plot'),rects=[];
      for(var i=0;i<plots.length;i++){var r=plots[i].getBoundingClientRect();
        rects.push([Math.round(r.left+window.scrollX),Math.round(r.top+window.scrollY),Math.round(r.width),Math.round(r.height)].join(','));}
      var broken=0;for(var j=0;j<document.images.length;j++){if(!document.images[j].naturalWidth)broken++;}
      root.setAttribute('data-plots',rects.join(' '));
      root.setAttribute('data-images',String(document.images.length));
      root.setAttribute('data-broken-images',String(broken));
      if(root.getAttribute('data-render')==='pending')root.setAttribute('data-render','ok');
    }catch(e){root.setAttribute('data-render','error');}
  });
})();
)JS";

} // namespace mhr::tracker
