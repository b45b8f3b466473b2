// cli/test_hooks.h — fault injection for the tests of `mhr run` (documented in docs/distributed.md and
// docs/tracking.md): environment variables make a process kill itself at a chosen point, so that resume and
// failure handling are tested against real deaths. In: the environment. Out: an epoch-end hook in
// ExecuteOptions, or a MetricsSink that forwards to the real one and dies after a chosen step. Unset, they
// change nothing.
#pragma once

#include "runtime/execute.h"

#include <memory>

namespace mhr::cli {

// MHR_TEST_KILL_RANK=R and MHR_TEST_KILL_AFTER=STAGE:EPOCHS make rank R SIGKILL itself once that epoch's
// checkpoint is durable for every rank.
void installTestKillHook(runtime::ExecuteOptions& options, int64_t rank);

// MHR_TEST_KILL_AFTER_STEP=N: a sink around `inner` that makes the recording process SIGKILL itself once a
// metric point of run-wide step N is durable (MHR_TEST_KILL_SIGNAL=15: SIGTERM instead). nullptr when unset.
std::unique_ptr<runtime::MetricsSink> killAfterStepSink(runtime::MetricsSink& inner);

} // namespace mhr::cli
