// tracker/html.h — escaping text for HTML and SVG. In: any text (user, database or spec text); out: the same
// text safe inside element content and inside attribute values quoted with " or '. Also the load-time check
// script the generated pages share.
#pragma once

#include <string>

namespace mhr::tracker {

// & < > " ' become &amp; &lt; &gt; &quot; &#39;; everything else (UTF-8 included) is kept as it is.
std::string escapeHtml(const std::string& text);

// The script every self-contained page (run report, aggregate page) ends with: on load it records on <html>
// whether the page rendered (data-render ok|error), where its svg.plot elements are (data-plots) and how many
// images it has and how many failed (data-images, data-broken-images); the headless-browser tests read them.
extern const char* const kPageCheckScript;

} // namespace mhr::tracker
