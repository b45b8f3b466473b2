// tracker/html.h — escaping text for HTML and SVG. In: any text (user, database or spec text); out: the same
// text safe inside element content and inside attribute values quoted with " or '.
#pragma once

#include <string>

namespace mhr::tracker {

// & < > " ' become &amp; &lt; &gt; &quot; &#39;; everything else (UTF-8 included) is kept as it is.
std::string escapeHtml(const std::string& text);

} // namespace mhr::tracker
