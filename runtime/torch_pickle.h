// runtime/torch_pickle.h — the state-dict subset of Python's pickle as torch.save writes it (data.pkl inside
// the zip). In: pickle bytes (untrusted) and a callback that returns a storage's bytes as a 1-D tensor. Out:
// the tensors by dotted name. Only these objects are understood: dict, collections.OrderedDict, tensors
// rebuilt by torch._utils._rebuild_tensor_v2/_v3 or _rebuild_parameter, persistent-id storages
// (torch.FloatStorage & co., torch.UntypedStorage with a dtype), dtypes and plain
// scalars/strings/tuples/lists. Any other global is an error: nothing is imported or executed. The writer
// produces the pickle torch.save itself writes (protocol 2).
#pragma once

#include "runtime/state_dict.h"

#include <functional>
#include <string>
#include <string_view>

namespace mhr::runtime {

// Returns the storage `key` as a contiguous 1-D CPU tensor of `numel` elements of `dtype` (for an untyped
// storage, dtype is kByte and numel its byte count). Throws mhr::UserError when the record is missing or
// short.
using StorageLoader =
    std::function<torch::Tensor(const std::string& key, torch::ScalarType dtype, int64_t numel)>;

// Nested dicts are flattened with '.', so {"model": {"fc.weight": t}} gives "model.fc.weight". A non-tensor
// value (an epoch counter, an optimizer state) is an error naming its key: the file is not a plain state
// dict.
StateDict unpickleStateDict(std::string_view pickle, const StorageLoader& loadStorage,
                            const std::string& displayName);

// The pickle of an OrderedDict of tensors; `storages` receives (key, contiguous CPU tensor) for each data
// record.
std::string pickleStateDict(const StateDict& state,
                            std::vector<std::pair<std::string, torch::Tensor>>& storages);

} // namespace mhr::runtime
