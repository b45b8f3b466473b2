// compiler/lower/lower_config.h — lowering of the checked AST's non-network parts into the Plan: data set
// configurations, train/evaluate stages with every default filled in, the sweep, and the flat list of
// resolved settings the tracker records. Requires: sema::check reported no errors. Networks are lowered with
// their IR (compiler/lower/lower.cpp).
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/source.h"
#include "compiler/plan/plan.h"
#include "compiler/sema/checker.h"

namespace mhr::lower {

plan::Value toPlanValue(const ast::Value& value);
std::string locationOf(const diag::SourceRange& range, const diag::SourceManager& sources);

plan::DatasetConfig lowerDataset(const ast::DatasetStmt& stmt, const diag::SourceManager& sources);
plan::Stage lowerStage(const ast::StageStmt& stmt, const std::string& key,
                       const diag::SourceManager& sources);
plan::SweepConfig lowerSweep(const ast::SweepStmt& stmt, int64_t experimentSeed);
// The stable stage keys ("train.hr", "train.hr.2", "evaluate.base"), in execution order.
std::vector<std::string> stageKeys(const sema::Symbols& symbols);
// Every resolved setting, flattened: "seed", "dataset.mammo.count", "train.hr.optimizer.lr", ...
plan::Attrs flattenParams(const plan::ExperimentPlan& plan);

} // namespace mhr::lower
