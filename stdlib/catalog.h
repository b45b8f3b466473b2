// stdlib/catalog.h — the standard library's NetworkCatalog (compiler/ir/catalog.h). In: nothing. Out: the one
// catalog instance the pipeline uses to check `network X = NAME(options)` statements and build base networks.
#pragma once

#include "compiler/ir/catalog.h"

namespace mhr::stdlib {

const ir::NetworkCatalog& catalog();

} // namespace mhr::stdlib
