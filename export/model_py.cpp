#include "export/model_py.h"

#include "compiler/ir/params.h"
#include "support/assert.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace mhr::exporter {

namespace {

// ---- Python literals
// -------------------------------------------------------------------------------------------------

// A float literal that reads back as the same double (formatNumber is the shortest round-trip form; a
// whole number gets ".0" so Python sees a float).
std::string pyFloat(double v) {
  if (std::isnan(v)) return "float(\"nan\")";
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "-float(\"inf\")";
  std::string s = support::formatNumber(v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

const char* pyBool(bool b) {
  return b ? "True" : "False";
}

// Decodes one UTF-8 sequence at text[i]; returns the code point and advances i, or -1 (one byte consumed)
// when the bytes are not valid UTF-8.
int32_t nextCodePoint(const std::string& text, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + static_cast<size_t>(len) > text.size()) {
    ++i;
    return -1;
  }
  int32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < len; ++k) {
    const unsigned char b = byte(i + static_cast<size_t>(k));
    if ((b >> 6) != 0x2) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8 either.
  static const int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++i;
    return -1;
  }
  i += static_cast<size_t>(len);
  return cp;
}

// The body of a Python string literal (no quotes) holding `text`, in ASCII: class names and run ids come
// from users' files, so anything but printable ASCII is escaped (invalid UTF-8 becomes U+FFFD).
std::string pyEscape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    int32_t cp = nextCodePoint(text, i);
    if (cp < 0) cp = 0xFFFD;
    if (cp == '\\' || cp == '"')
      out += '\\', out += static_cast<char>(cp);
    else if (cp == '\n')
      out += "\\n";
    else if (cp == '\t')
      out += "\\t";
    else if (cp >= 0x20 && cp < 0x7F)
      out += static_cast<char>(cp);
    else if (cp < 0x100)
      out += fmt::format("\\x{:02x}", cp);
    else if (cp < 0x10000)
      out += fmt::format("\\u{:04x}", cp);
    else
      out += fmt::format("\\U{:08x}", cp);
  }
  return out;
}

std::string pyString(const std::string& text) {
  return "\"" + pyEscape(text) + "\"";
}

std::string pyPair(int64_t a, int64_t b) {
  return fmt::format("({}, {})", a, b);
}

// ---- the network
// -------------------------------------------------------------------------------------------------

// Local variable names of the forward pass: the node name with every character outside [A-Za-z0-9_] as '_'
// (`layer1.0.conv1` -> `layer1_0_conv1`), never a keyword or a name the forward pass itself uses.
class VariableNames {
public:
  VariableNames() {
    for (const char* k :
         {"False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
          "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
          "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
          // the forward pass's own names
          "self", "x", "torch", "nn", "F", "np", "partial", "math", "json", "os", "struct",
          "_stochastic_depth", "_identity", "ParamActivation"})
      used_.insert(k);
  }
  std::string make(const std::string& nodeName) {
    std::string base;
    for (char c : nodeName) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      base += ok ? c : '_';
    }
    if (base.empty() || (base[0] >= '0' && base[0] <= '9')) base = "n_" + base;
    std::string name = base;
    for (int k = 1; used_.count(name); ++k) name = fmt::format("{}_{}", base, k);
    used_.insert(name);
    return name;
  }

private:
  std::set<std::string> used_;
};

// A parameter-free activation applied to the variable `v`, as the runtime computes it
// (runtime/network.cpp: applyActivation).
std::string activationCall(const ir::Activation& a, const std::string& v) {
  switch (a.kind) {
  case ir::ActKind::Identity:
    return v;
  case ir::ActKind::Relu:
    return "F.relu(" + v + ")";
  case ir::ActKind::Relu6:
    return "F.hardtanh(" + v + ", 0.0, 6.0)";
  case ir::ActKind::LeakyRelu:
    return "F.leaky_relu(" + v + ", " + pyFloat(a.slope) + ")";
  case ir::ActKind::Hardtanh:
    return "F.hardtanh(" + v + ", " + pyFloat(a.minValue) + ", " + pyFloat(a.maxValue) + ")";
  case ir::ActKind::Gelu:
    return a.tanhApprox ? "F.gelu(" + v + ", approximate=\"tanh\")" : "F.gelu(" + v + ")";
  case ir::ActKind::Silu:
    return "F.silu(" + v + ")";
  case ir::ActKind::Sigmoid:
    return "torch.sigmoid(" + v + ")";
  case ir::ActKind::Tanh:
    return "torch.tanh(" + v + ")";
  }
  MHR_UNREACHABLE("activation kind");
}

// The same activation as a picklable callable (the ACT inside p(ACT)).
std::string activationFunction(const ir::Activation& a) {
  switch (a.kind) {
  case ir::ActKind::Identity:
    return "_identity";
  case ir::ActKind::Relu:
    return "F.relu";
  case ir::ActKind::Relu6:
    return "partial(F.hardtanh, min_val=0.0, max_val=6.0)";
  case ir::ActKind::LeakyRelu:
    return "partial(F.leaky_relu, negative_slope=" + pyFloat(a.slope) + ")";
  case ir::ActKind::Hardtanh:
    return "partial(F.hardtanh, min_val=" + pyFloat(a.minValue) + ", max_val=" + pyFloat(a.maxValue) + ")";
  case ir::ActKind::Gelu:
    return a.tanhApprox ? "partial(F.gelu, approximate=\"tanh\")" : "F.gelu";
  case ir::ActKind::Silu:
    return "F.silu";
  case ir::ActKind::Sigmoid:
    return "torch.sigmoid";
  case ir::ActKind::Tanh:
    return "torch.tanh";
  }
  MHR_UNREACHABLE("activation kind");
}

const char* padModeText(ir::PadMode mode) {
  switch (mode) {
  case ir::PadMode::Zeros:
    return "zeros";
  case ir::PadMode::Reflect:
    return "reflect";
  case ir::PadMode::Replicate:
    return "replicate";
  case ir::PadMode::Circular:
    return "circular";
  }
  MHR_UNREACHABLE("pad mode");
}

// The torch module of a node with tensors; "" for functional nodes.
std::string moduleConstructor(const ir::Node& n) {
  switch (n.op) {
  case ir::OpKind::Conv2d: {
    const ir::Conv2dAttrs& c = n.conv;
    std::string s = fmt::format("nn.Conv2d({}, {}, {}, stride={}", c.inChannels, c.outChannels,
                                pyPair(c.kernelH, c.kernelW), pyPair(c.strideH, c.strideW));
    // Asymmetric padding is applied by an explicit F.pad in forward (as the runtime does); the module then
    // pads nothing.
    if (c.symmetricPadding() && (c.padTop != 0 || c.padLeft != 0))
      s += ", padding=" + pyPair(c.padTop, c.padLeft);
    if (c.dilationH != 1 || c.dilationW != 1) s += ", dilation=" + pyPair(c.dilationH, c.dilationW);
    if (c.groups != 1) s += fmt::format(", groups={}", c.groups);
    if (!c.bias) s += ", bias=False";
    if (c.symmetricPadding() && c.padMode != ir::PadMode::Zeros)
      s += fmt::format(", padding_mode=\"{}\"", padModeText(c.padMode));
    return s + ")";
  }
  case ir::OpKind::BatchNorm2d: {
    const ir::BatchNormAttrs& b = n.bn;
    std::string s = fmt::format("nn.BatchNorm2d({}, eps={}, momentum={}", b.numFeatures, pyFloat(b.eps),
                                pyFloat(b.momentum));
    if (!b.affine) s += ", affine=False";
    if (!b.trackRunningStats) s += ", track_running_stats=False";
    return s + ")";
  }
  case ir::OpKind::Linear:
    return fmt::format("nn.Linear({}, {}{})", n.linear.inFeatures, n.linear.outFeatures,
                       n.linear.bias ? "" : ", bias=False");
  case ir::OpKind::PRelu:
    return fmt::format("nn.PReLU({})", n.prelu.numParameters);
  case ir::OpKind::ParamActivation:
    return fmt::format("ParamActivation({}, {})", n.pact.channels, activationFunction(n.pact.inner));
  default:
    return "";
  }
}

// The right-hand side of node `n`'s line in forward; `in` are its inputs' variables.
std::string forwardExpression(const ir::Node& n, const std::vector<std::string>& in) {
  const std::string module = "self.node(" + pyString(n.name) + ")";
  switch (n.op) {
  case ir::OpKind::Input:
    break;
  case ir::OpKind::Conv2d: {
    const ir::Conv2dAttrs& c = n.conv;
    if (c.symmetricPadding()) return module + "(" + in[0] + ")";
    const char* mode = c.padMode == ir::PadMode::Zeros ? "constant" : padModeText(c.padMode);
    return fmt::format("{}(F.pad({}, ({}, {}, {}, {}), mode=\"{}\"))", module, in[0], c.padLeft, c.padRight,
                       c.padTop, c.padBottom, mode);
  }
  case ir::OpKind::BatchNorm2d:
  case ir::OpKind::Linear:
  case ir::OpKind::PRelu:
  case ir::OpKind::ParamActivation:
    return module + "(" + in[0] + ")";
  case ir::OpKind::Activation:
    return activationCall(n.act, in[0]);
  case ir::OpKind::MaxPool2d: {
    const ir::Pool2dAttrs& p = n.pool;
    return fmt::format("F.max_pool2d({}, {}, {}, {}, {}, ceil_mode={})", in[0], pyPair(p.kernelH, p.kernelW),
                       pyPair(p.strideH, p.strideW), pyPair(p.padH, p.padW), pyPair(p.dilationH, p.dilationW),
                       pyBool(p.ceilMode));
  }
  case ir::OpKind::AvgPool2d: {
    const ir::Pool2dAttrs& p = n.pool;
    return fmt::format("F.avg_pool2d({}, {}, {}, {}, ceil_mode={}, count_include_pad={})", in[0],
                       pyPair(p.kernelH, p.kernelW), pyPair(p.strideH, p.strideW), pyPair(p.padH, p.padW),
                       pyBool(p.ceilMode), pyBool(p.countIncludePad));
  }
  case ir::OpKind::AdaptiveAvgPool2d:
    return fmt::format("F.adaptive_avg_pool2d({}, {})", in[0], pyPair(n.adaptive.outH, n.adaptive.outW));
  case ir::OpKind::AdaptiveMaxPool2d:
    return fmt::format("F.adaptive_max_pool2d({}, {})", in[0], pyPair(n.adaptive.outH, n.adaptive.outW));
  case ir::OpKind::Add:
    return in[0] + " + " + in[1];
  case ir::OpKind::Mul:
    return in[0] + " * " + in[1];
  case ir::OpKind::Concat:
    return "torch.cat([" + support::join(in, ", ") + "], 1)";
  case ir::OpKind::Flatten:
    return "torch.flatten(" + in[0] + ", 1)";
  case ir::OpKind::Dropout:
    return fmt::format("F.dropout({}, {}, self.training)", in[0], pyFloat(n.dropout.p));
  case ir::OpKind::StochasticDepth:
    return fmt::format("_stochastic_depth({}, {}, \"{}\", self.training)", in[0], pyFloat(n.sd.p),
                       n.sd.mode == ir::StochasticDepthMode::Row ? "row" : "batch");
  }
  MHR_UNREACHABLE("forward expression of an input node");
}

std::string modelClass(const ir::Graph& graph, const std::string& networkName) {
  // The runtime's invariant (runtime/network.cpp: registerNodeModule): a node with tensors is never also the
  // container of another node, so each module sits at its own path.
  std::set<std::string> withModules;
  for (const ir::Node& n : graph.nodes())
    if (!moduleConstructor(n).empty()) withModules.insert(n.name);
  for (const std::string& name : withModules)
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
      MHR_ASSERT(!withModules.count(name.substr(0, dot)), "a node with tensors contains another node");

  std::string s;
  s += "class Model(nn.Module):\n";
  s += fmt::format(
      "    \"\"\"Network `{}` as mhr's IR defines it: {} nodes, {} parameters. Each node with tensors "
      "is a\n    submodule at its dotted name (`layer1.0.conv1`), so state_dict() keys are "
      "mhr's.\"\"\"\n\n",
      pyEscape(networkName), graph.size(), ir::parameterCount(graph));
  s += "    def __init__(self):\n";
  s += "        super().__init__()\n";
  for (const ir::Node& n : graph.nodes()) {
    std::string m = moduleConstructor(n);
    if (!m.empty()) s += "        _place(self, " + pyString(n.name) + ", " + m + ")\n";
  }
  s += "\n";
  s += "    def node(self, path):\n";
  s += "        \"\"\"The module of the node at a dotted path, e.g. \"layer1.0.conv1\".\"\"\"\n";
  s += "        module = self\n";
  s += "        for part in path.split(\".\"):\n";
  s += "            module = module._modules[part]\n";
  s += "        return module\n\n";
  s += "    def forward(self, x):\n";
  s += "        # One line per IR node, in the IR's (topological) order; `del` drops a value after its last "
       "use.\n";

  const auto count = static_cast<ir::NodeId>(graph.size());
  std::vector<ir::NodeId> lastUse(graph.size(), ir::kNoNode);
  for (ir::NodeId id = 0; id < count; ++id)
    for (ir::NodeId j : graph.inputsOf(id)) lastUse[static_cast<size_t>(j)] = id;
  VariableNames names;
  std::vector<std::string> var(graph.size());
  var[static_cast<size_t>(graph.inputId())] = "x";
  for (ir::NodeId id = 0; id < count; ++id) {
    if (id == graph.inputId()) continue;
    const ir::Node& n = graph.node(id);
    std::vector<std::string> in;
    for (ir::NodeId j : graph.inputsOf(id)) in.push_back(var[static_cast<size_t>(j)]);
    var[static_cast<size_t>(id)] = names.make(n.name);
    s += "        " + var[static_cast<size_t>(id)] + " = " + forwardExpression(n, in);
    // Inputs read for the last time are dropped at once (as the runtime frees them): at high resolution
    // holding every activation of an inference pass would need several times the memory.
    std::vector<std::string> dead;
    for (ir::NodeId j : graph.inputsOf(id))
      if (lastUse[static_cast<size_t>(j)] == id && j != graph.outputId()) {
        const std::string& v = var[static_cast<size_t>(j)];
        if (std::find(dead.begin(), dead.end(), v) == dead.end()) dead.push_back(v);
      }
    s += dead.empty() ? "\n" : "; del " + support::join(dead, ", ") + "\n";
  }
  s += "        return " + var[static_cast<size_t>(graph.outputId())] + "\n";
  return s;
}

// ---- the module's header
// ----------------------------------------------------------------------------------------

// The data set's preprocessing in .mhr spelling: `preprocess: [breast_crop, clahe(clip: 2, tiles: 8)],
// resize: pad`.
std::string preprocessText(const data::PreprocessSpec& p) {
  using support::formatNumber;
  std::vector<std::string> steps;
  if (p.voi) steps.push_back("voi");
  if (p.window) {
    std::string w = fmt::format("window(center: {}, width: {}", formatNumber(p.window->center),
                                formatNumber(p.window->width));
    if (p.window->function != "LINEAR") w += ", " + p.window->function; // only a file's VOI has others
    steps.push_back(w + ")");
  }
  if (p.breastCrop) {
    std::vector<std::string> args; // no threshold: Otsu's
    if (p.cropThreshold) args.push_back("threshold: " + formatNumber(*p.cropThreshold));
    if (!p.cropFlip) args.push_back("flip: false");
    steps.push_back(args.empty() ? "breast_crop" : "breast_crop(" + support::join(args, ", ") + ")");
  }
  if (p.clahe)
    steps.push_back(fmt::format("clahe(clip: {}, tiles: {})", formatNumber(p.claheClip), p.claheTiles));
  if (p.normalize)
    steps.push_back(fmt::format("normalize(mean: {}, std: {})", formatNumber(p.mean), formatNumber(p.std)));
  const char* resize = p.resize == data::ResizeMode::Pad    ? "pad"
                       : p.resize == data::ResizeMode::Crop ? "crop"
                                                            : "stretch";
  return "preprocess: [" + support::join(steps, ", ") + "], resize: " + resize;
}

std::string docstring(const PythonModelInfo& info, int64_t channels) {
  const data::PreprocessSpec& p = info.preprocess;
  std::string s = "\"\"\"";
  s += fmt::format("Network `{}` exported by mhr from run {} (spec {}).\n\n", pyEscape(info.networkName),
                   pyEscape(info.runId.empty() ? "(none)" : info.runId),
                   pyEscape(info.specHash.empty() ? "(none)" : info.specHash));
  s += fmt::format("Input: [N, {}, {}, {}] float32 (RESOLUTION = ({}, {}), the resolution it was evaluated "
                   "at{}).\n",
                   channels, info.height, info.width, info.height, info.width,
                   channels == 3 ? "; grey images are repeated into 3 channels" : "");
  s += fmt::format("Output: {} logits, one per class in CLASSES; scores are {}.\n", info.classes.size(),
                   info.multiLabel ? "sigmoid(logits) per label (multi-label)" : "softmax(logits, 1)");
  s += "Preprocessing (PREPROCESS), as the data set's options say it:\n    " + pyEscape(preprocessText(p)) +
       "\n\n";
  s += "Decode one image to a 2-D array of stored pixel codes (uint8, uint16 or int16); preprocess() then "
       "does\n"
       "what mhr does (intensity, breast crop, resize, CLAHE, the 16-bit cache, normalize, channels):\n\n"
       "    import pydicom\n"
       "    ds = pydicom.dcmread(\"image.dcm\")\n"
       "    x = preprocess(ds.pixel_array, **dicom_kwargs(ds))\n\n"
       "    import cv2  # PNG/JPEG; colour images: cv2.cvtColor(a, cv2.COLOR_BGR2GRAY) first, as mhr does\n"
       "    x = preprocess(cv2.imread(\"image.png\", cv2.IMREAD_UNCHANGED))\n\n"
       "Run it:\n\n"
       "    model = load(\"DIR\")  # the folder of this file and model.safetensors\n"
       "    with torch.no_grad():\n";
  s += info.multiLabel ? "        p = model(x).sigmoid()   # scores per label\n"
                       : "        p = model(x).softmax(1)  # scores per class\n";
  s +=
      info.flipTta
          ? "    p = probabilities(model, x)  # mhr's scores: averaged with the mirrored image's (FLIP_TTA)\n"
          : "    p = probabilities(model, x)  # the same, as mhr's evaluation computes them\n";
  s += "    decision = predicted(p)      # at the run's operating point THRESHOLD\n";
  s += "\"\"\"\n";
  return s;
}

std::string constants(const PythonModelInfo& info, int64_t channels) {
  const data::PreprocessSpec& p = info.preprocess;
  std::vector<std::string> classes;
  for (const std::string& c : info.classes) classes.push_back(pyString(c));
  std::string s;
  s += "CLASSES = [" + support::join(classes, ", ") + "]\n";
  s += fmt::format("MULTI_LABEL = {}\n", pyBool(info.multiLabel));
  s += "THRESHOLD = " + pyFloat(info.threshold) + "\n";
  s += fmt::format("RESOLUTION = ({}, {})\n", info.height, info.width);
  s += fmt::format("IN_CHANNELS = {}\n", channels);
  s += fmt::format("FLIP_TTA = {}\n", pyBool(info.flipTta));
  s += "# The data set's preprocessing steps, in the order mhr runs them (data/preprocess.h).\n";
  s += "PREPROCESS = {\n";
  s += fmt::format("    \"voi\": {},\n", pyBool(p.voi));
  s += "    \"window\": " +
       (p.window ? "(" + pyFloat(p.window->center) + ", " + pyFloat(p.window->width) + ", " +
                       pyString(p.window->function) + ")"
                 : std::string("None")) +
       ",\n";
  s += fmt::format("    \"breast_crop\": {},\n", pyBool(p.breastCrop));
  s += "    \"crop_threshold\": " + (p.cropThreshold ? pyFloat(*p.cropThreshold) : std::string("None")) +
       ",  # None: Otsu's threshold\n";
  s += fmt::format("    \"crop_flip\": {},\n", pyBool(p.cropFlip));
  const char* resize = p.resize == data::ResizeMode::Pad    ? "pad"
                       : p.resize == data::ResizeMode::Crop ? "crop"
                                                            : "stretch";
  s += fmt::format("    \"resize\": \"{}\",\n", resize);
  s += "    \"clahe\": " +
       (p.clahe ? fmt::format("({}, {})", pyFloat(p.claheClip), p.claheTiles) : std::string("None")) +
       ",  # (clip, tiles)\n";
  s += "    \"normalize\": " +
       (p.normalize ? "(" + pyFloat(p.mean) + ", " + pyFloat(p.std) + ")" : std::string("None")) +
       ",  # (mean, std)\n";
  s += "}\n";
  return s;
}

// ---- the fixed parts of model.py
// --------------------------------------------------------------------------------

const char* const kImports = R"PY(import json
import math
import os
import struct
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
)PY";

const char* const kNetworkHelpers = R"PY(
# ---- the network -------------------------------------------------------------------------------------------


class _Tree(nn.Module):
    """One level of a dotted module path (`layer1`, then `0`): holds submodules, computes nothing."""


def _place(root, path, module):
    # Written into _modules directly: a path component may be a number ("0") or a name nn.Module already uses
    # as an attribute, which add_module() would refuse.
    parts = path.split(".")
    parent = root
    for part in parts[:-1]:
        child = parent._modules.get(part)
        if child is None:
            child = _Tree()
            parent._modules[part] = child
        parent = child
    parent._modules[parts[-1]] = module


def _identity(x):
    return x


class ParamActivation(nn.Module):
    """mhr's parametric activation p(ACT)(x) = (1 - a_c) * ACT(x) + a_c * x, one `a` per channel."""

    def __init__(self, channels, act):
        super().__init__()
        self.act = act
        self.a = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        shape = [1] * x.dim()
        shape[1] = self.a.shape[0]
        s = self.a.view(shape).to(x.dtype)
        return (1 - s) * self.act(x) + s * x


def _stochastic_depth(x, p, mode, training):
    # torchvision.ops.stochastic_depth: in training, drop each sample ("row") or the whole batch with
    # probability p and rescale the survivors; the identity in eval mode.
    if not training or p == 0.0:
        return x
    survival = 1.0 - p
    shape = [1] * x.dim()
    if mode == "row":
        shape[0] = x.shape[0]
    noise = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(survival)
    if survival > 0.0:
        noise.div_(survival)
    return x * noise

)PY";

const char* const kWeightsAndScores = R"PY(
# ---- weights -----------------------------------------------------------------------------------------------

# safetensors dtype -> (numpy dtype of the stored little-endian values, torch dtype to reinterpret them as)
_SAFETENSORS_DTYPES = {
    "F64": ("<f8", None),
    "F32": ("<f4", None),
    "F16": ("<f2", None),
    "BF16": ("<i2", torch.bfloat16),
    "I64": ("<i8", None),
    "I32": ("<i4", None),
    "I16": ("<i2", None),
    "I8": ("i1", None),
    "U8": ("u1", None),
    "BOOL": ("?", None),
}


def read_safetensors(path, builtin_reader=False):
    """The tensors of a safetensors file by name, on the CPU.

    Uses the `safetensors` package when it imports (and builtin_reader is False); otherwise reads the format
    itself: an 8-byte little-endian header length, a JSON header (dtype, shape, data_offsets per tensor) and
    the raw little-endian data.
    """
    if not builtin_reader:
        try:
            from safetensors.torch import load_file
        except ImportError:
            load_file = None
        if load_file is not None:
            return load_file(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > len(data) - 8:
        raise ValueError(f"{path}: not a safetensors file (header length {header_size} past the end)")
    header = json.loads(data[8 : 8 + header_size].decode("utf-8"))
    base = 8 + header_size
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = entry["dtype"]
        if dtype not in _SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has dtype {dtype}, which this reader does not handle")
        code, view = _SAFETENSORS_DTYPES[dtype]
        stored = np.dtype(code)
        shape = [int(d) for d in entry["shape"]]
        begin, end = (int(o) for o in entry["data_offsets"])
        count = math.prod(shape)
        if begin < 0 or end < begin or base + end > len(data) or end - begin != count * stored.itemsize:
            raise ValueError(f"{path}: tensor {name!r}: data_offsets [{begin}, {end}) do not fit dtype "
                             f"{dtype} and shape {shape}")
        values = np.frombuffer(data, dtype=stored, count=count, offset=base + begin)
        # A writable copy in the machine's byte order: torch takes neither read-only nor foreign-endian data.
        values = values.astype(stored.newbyteorder("="), copy=True).reshape(shape)
        tensor = torch.from_numpy(values)
        tensors[name] = tensor.view(view) if view is not None else tensor
    return tensors


def load(dir=None, device="cpu", builtin_reader=False):
    """The network with the weights of DIR/model.safetensors (DIR: this file's folder by default; a path to a
    .safetensors file also works), loaded strictly (every name must match), in eval mode, on `device`."""
    if dir is None:
        dir = os.path.dirname(os.path.abspath(__file__))
    path = dir if os.path.isfile(dir) else os.path.join(dir, "model.safetensors")
    model = Model()
    model.load_state_dict(read_safetensors(path, builtin_reader=builtin_reader), strict=True)
    return model.to(device).eval()


# ---- scores ------------------------------------------------------------------------------------------------


def probabilities(model, x):
    """Class scores as mhr's evaluation computes them: sigmoid per label (multi-label) or softmax over the
    classes, averaged with the horizontally mirrored batch's when the run used test-time flipping."""
    with torch.no_grad():
        score = torch.sigmoid if MULTI_LABEL else partial(torch.softmax, dim=1)
        p = score(model(x).float())
        if FLIP_TTA:
            p = (p + score(model(x.flip(3)).float())) / 2
    return p


def predicted(p):
    """Decisions from scores at the run's operating point: multi-label, p >= THRESHOLD per label (bool
    [N, C]); two classes, class 1 where p[:, 1] >= THRESHOLD; more classes, the argmax."""
    if MULTI_LABEL:
        return p >= THRESHOLD
    if p.shape[1] == 2:
        return (p[:, 1] >= THRESHOLD).long()
    return p.argmax(1)

)PY";

const char* const kPreprocess[] = {R"PY(
# ---- preprocessing -----------------------------------------------------------------------------------------
# A numpy port of mhr's data/preprocess.cpp, operation by operation: float32 where mhr computes in float,
# float64 where it computes in double, the same rounding functions, the same summation order, so that the
# network sees the numbers it saw in mhr (to float rounding). Every scalar in float32 arithmetic is an
# np.float32: numpy's promotion rules for Python floats changed between versions.

_F32 = np.float32


def _round_half_away(v):
    # C's lround on a float64 array: halves away from zero (np.rint would round them to even).
    a = np.abs(v)
    f = np.floor(a)
    return np.copysign(f + (a - f >= 0.5), v)


def _lround(v):
    # The same for one Python float.
    a = abs(v)
    f = math.floor(a)
    r = f + (1 if a - f >= 0.5 else 0)
    return r if v >= 0 else -r


def _window(v, center, width, function):
    # DICOM PS3.3 C.11.2.1.2 window functions with output range 0..1 (mhr's applyWindow); any function name
    # other than SIGMOID and LINEAR_EXACT is LINEAR.
    if function == "SIGMOID":
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-4.0 * (v - center) / width))
    c, w = center, width
    if function != "LINEAR_EXACT":
        c -= 0.5
        w -= 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (v - c) / w + 0.5
    return np.where(v <= c - w / 2, 0.0, np.where(v > c + w / 2, 1.0, inside))


class _Codes:
    # A decoded image as mhr's RawImage holds it: stored codes, their nominal range, the modality rescale and
    # the MONOCHROME1 flag.

    def __init__(self, array, slope, intercept, invert, bits_stored, signed):
        a = np.asarray(array)
        if a.ndim != 2 or a.size == 0:
            raise ValueError(f"preprocess: expected one grey image as a non-empty 2-D array, got shape "
                             f"{a.shape} (colour: cv2.cvtColor(a, cv2.COLOR_BGR2GRAY) first, as mhr does)")
        if a.dtype.kind not in "iu":
            raise ValueError(f"preprocess: expected stored pixel codes (uint8, uint16 or int16), got "
                             f"{a.dtype}")
        self.signed = a.dtype.kind == "i" if signed is None else bool(signed)
        self.bits = (8 if a.dtype.itemsize == 1 else 16) if bits_stored is None else int(bits_stored)
        if not (2 if self.signed else 1) <= self.bits <= 16:
            raise ValueError(f"preprocess: bits_stored {self.bits} is outside 1..16 (2..16 when signed); mhr "
                             "reads 8- and 16-bit images")
        if not (math.isfinite(slope) and math.isfinite(intercept)) or slope == 0:
            raise ValueError(f"preprocess: rescale slope {slope} / intercept {intercept} must be finite, the "
                             "slope non-zero")
        self.min = -(1 << (self.bits - 1)) if self.signed else 0
        self.max = (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1
        self.codes = a.astype(np.int64)
        lo, hi = int(self.codes.min()), int(self.codes.max())
        if lo < self.min or hi > self.max:
            raise ValueError(f"preprocess: codes {lo}..{hi} lie outside the {self.bits}-bit "
                             f"{'signed' if self.signed else 'unsigned'} range {self.min}..{self.max}; pass "
                             "bits_stored= and signed= as the file states them")
        self.slope, self.intercept, self.invert = float(slope), float(intercept), bool(invert)
        ends = (self.slope * self.min + self.intercept, self.slope * self.max + self.intercept)
        self.range_min, self.range_max = min(ends), max(ends)

    def unit_lut(self, window, voi_lut):
        # Step 1 as a table over every code min..max: unit value of code c at index c - min (mhr's unitLut).
        v = self.slope * np.arange(self.min, self.max + 1, dtype=np.float64) + self.intercept
        lo, hi = self.range_min, self.range_max
        if voi_lut is not None:
            first, bits, table = voi_lut
            i = np.clip(np.floor(v).astype(np.int64) - first, 0, len(table) - 1)
            u = table[i].astype(np.float64) / float((1 << bits) - 1)
        elif window is not None:
            u = _window(v, *window)
        elif hi > lo:
            u = (v - lo) / (hi - lo)
        else:
            u = np.zeros_like(v)
        u = np.clip(u, 0.0, 1.0)
        if self.invert:
            u = 1.0 - u
        return u.astype(np.float32)


def _voi(voi_window, voi_lut):
    # The file's own VOI for the `voi` step: its VOI LUT when given (mhr prefers it), else its first window.
    if voi_lut is not None:
        first, bits, table = voi_lut
        table = np.asarray(table).astype(np.int64).ravel()
        if not 1 <= int(bits) <= 16 or table.size == 0 or table.min() < 0 or table.max() > 65535:
            raise ValueError("preprocess: voi_lut must be (first_mapped, bits 1..16, non-empty uint16 table)")
        return None, (int(first), int(bits), table)
    if voi_window is None:
        raise ValueError("preprocess: this network's preprocessing uses `voi` (the file's own VOI LUT or "
                         "window): pass voi_window=(center, width[, function]) or voi_lut=(first_mapped, "
                         "bits, table), e.g. **dicom_kwargs(ds)")
    center, width = float(voi_window[0]), float(voi_window[1])
    function = str(voi_window[2]) if len(voi_window) > 2 and voi_window[2] else "LINEAR"
    if function == "LINEAR" and width < 1.0:
        raise ValueError(f"preprocess: WindowWidth {width} is below 1 (invalid for a LINEAR window)")
    if not width > 0.0:
        raise ValueError("preprocess: WindowWidth must be positive")
    return (center, width, function), None


def _otsu(values):
    # Otsu's threshold of unit values over 256 bins: the upper edge of the background class.
    bins = np.clip((values * _F32(255.0) + _F32(0.5)).astype(np.int64), 0, 255)
    hist = np.bincount(bins.ravel(), minlength=256).astype(np.float64).tolist()
    total = float(values.size)
    sum_all = 0.0
    for i in range(256):
        sum_all += i * hist[i]
    w_b = sum_b = 0.0
    best, best_t = -1.0, 0
    for t in range(256):
        w_b += hist[t]
        if w_b == 0:
            continue
        w_f = total - w_b
        if w_f == 0:
            break
        sum_b += t * hist[t]
        m_b, m_f = sum_b / w_b, (sum_all - sum_b) / w_f
        between = w_b * w_f * (m_b - m_f) * (m_b - m_f)
        if between > best:
            best, best_t = between, t
    return (best_t + 0.5) / 255.0


def _find_breast(proxy, threshold):
    # The largest 8-connected component above the threshold (after an opening with a 3x3 cross), as
    # (y, x, h, w) of its bounding box and whether it has more pixels right of the box's centre line than
    # left of it (the chest wall is on the right); None when nothing is above the threshold.
    t = _otsu(proxy) if threshold is None else threshold
    mask = proxy.astype(np.float64) > t
    p = np.pad(mask, 1, constant_values=True)
    mask = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    p = np.pad(mask, 1, constant_values=False)
    mask = p[1:-1, 1:-1] | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
    # Components from horizontal runs, joined by union-find where runs of neighbouring rows touch
    # (diagonals included). Runs are made in raster order, so a component's first run holds its first pixel.
    runs = []  # (y, x0, x1), inclusive
    rows = []  # per row: the indices of its runs
    for y in range(mask.shape[0]):
        d = np.diff(np.concatenate(([0], mask[y].astype(np.int8), [0])))
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
        rows.append(range(len(runs), len(runs) + len(starts)))
        runs.extend((y, int(a), int(b)) for a, b in zip(starts, ends))
    if not runs:
        return None
    parent = list(range(len(runs)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for y in range(1, mask.shape[0]):
        above, here = rows[y - 1], rows[y]
        i, j = 0, 0
        while i < len(above) and j < len(here):
            _, a0, a1 = runs[above[i]]
            _, b0, b1 = runs[here[j]]
            if a0 <= b1 + 1 and b0 <= a1 + 1:
                ra, rb = root(above[i]), root(here[j])
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if a1 < b1:
                i += 1
            else:
                j += 1
    members = {}
    for k in range(len(runs)):
        members.setdefault(root(k), []).append(runs[k])
    # The first component (in raster order of first pixels) with the most pixels, as mhr's scan finds it.
    best = max(sorted(members), key=lambda r: sum(x1 - x0 + 1 for _, x0, x1 in members[r]))
    comp = members[best]
    y0, y1 = min(r[0] for r in comp), max(r[0] for r in comp)
    x0, x1 = min(r[1] for r in comp), max(r[2] for r in comp)
    mid2 = x0 + x1  # compares 2x with the box's centre line without rounding
    left = sum(max(0, min(b, (mid2 - 1) // 2) - a + 1) for _, a, b in comp)
    right = sum(max(0, b - max(a, mid2 // 2 + 1) + 1) for _, a, b in comp)
    return (y0, x0, y1 - y0 + 1, x1 - x0 + 1), right > left


def _place_region(mode, src_h, src_w, out_h, out_w):
    # mhr's place(): the source region (y, x, h, w), the size it is resampled to and where it goes.
    region, offset = (0, 0, src_h, src_w), (0, 0)
    if mode == "stretch":
        scaled = (out_h, out_w)
    elif mode == "pad":  # fits inside, centred, zero around it
        s = min(out_h / src_h, out_w / src_w)
        scaled = (min(max(_lround(src_h * s), 1), out_h), min(max(_lround(src_w * s), 1), out_w))
        offset = ((out_h - scaled[0]) // 2, (out_w - scaled[1]) // 2)
    else:  # crop: the centred source region with the target's aspect ratio
        s = max(out_h / src_h, out_w / src_w)
        rh = min(max(_lround(out_h / s), 1), src_h)
        rw = min(max(_lround(out_w / s), 1), src_w)
        region = ((src_h - rh) // 2, (src_w - rw) // 2, rh, rw)
        scaled = (out_h, out_w)
    return region, scaled, offset


def _taps(n_in, n_out):
    # One axis of mhr's separable resampling: output o reads inputs start[o] + k with weights weight[o, k].
    # Shrinking: area averaging (o covers [o * scale, (o + 1) * scale)); else bilinear with half-pixel
    # centres, clamped at the edges.
    scale = n_in / n_out
    if n_in > n_out:
        taps = int(math.ceil(scale)) + 1
        start = np.zeros(n_out, np.int64)
        weight = np.zeros((n_out, taps), np.float32)
        for o in range(n_out):
            f0 = o * scale
            f1 = min(float(n_in), f0 + scale)
            i0 = int(math.floor(f0))
            start[o] = min(i0, n_in - taps if n_in - taps >= 0 else 0)
            cell = f1 - f0
            i = i0
            while i < n_in and i < f1:
                overlap = min(f1, float(i + 1)) - max(f0, float(i))
                if overlap > 0:
                    weight[o, i - start[o]] += _F32(overlap / cell)
                i += 1
        return start, weight
    start = np.zeros(n_out, np.int64)
    weight = np.zeros((n_out, 2), np.float32)
    for o in range(n_out):
        if n_in == 1:
            weight[o, 0] = 1.0
            continue
        s = min(max((o + 0.5) * scale - 0.5, 0.0), float(n_in - 1))
        i0 = min(int(math.floor(s)), max(n_in - 2, 0))
        f = s - i0
        start[o] = i0
        weight[o, 0] = _F32(1.0 - f)
        weight[o, 1] = _F32(f)
    return start, weight


def _resample(src, out_h, out_w):
    # Rows first, then columns, accumulating in float32 in mhr's order (taps in order, source rows in order).
    h, w = src.shape
    xs, xw = _taps(w, out_w)
    ys, yw = _taps(h, out_h)
    row = np.zeros((h, w + xw.shape[1]), np.float32)  # unused taps (weight 0) may read past the row
    row[:, :w] = src
    across = np.zeros((h + yw.shape[1], out_w), np.float32)
    acc = np.zeros((h, out_w), np.float32)
    for k in range(xw.shape[1]):
        acc = acc + xw[:, k] * row[:, xs + k]
    across[:h] = acc
    out = np.zeros((out_h, out_w), np.float32)
    for k in range(yw.shape[1]):
        used = yw[:, k] != 0  # mhr skips zero weights
        out[used] = out[used] + yw[used, k][:, None] * across[ys[used] + k]
    return out


def _reflect101(i, n):
    # OpenCV's BORDER_REFLECT_101 index.
    i = np.asarray(i, np.int64).copy()
    if n == 1:
        return np.zeros_like(i)
    while True:
        low, high = i < 0, i >= n
        if not (low.any() or high.any()):
            return i
        i[low] = -i[low]
        i[high] = 2 * (n - 1) - i[high]


def _clahe(img, clip, tiles, bins=256):
    # mhr's clahe(): OpenCV's algorithm (tiles x tiles histograms of 256 levels over the reflect-101 extended
    # image, clip limit relative to the mean bin height, excess spread evenly then by a stride, maps rounded
    # to whole levels), read at the value's fractional position between two levels and blended bilinearly
    # between the four nearest tile maps.
    h, w = img.shape
    if h < tiles or w < tiles:
        return img
    ext_h = h + tiles - h % tiles if h % tiles else h
    ext_w = w + tiles - w % tiles if w % tiles else w
    th, tw = ext_h // tiles, ext_w // tiles
    top = _F32(bins - 1)
    level = np.clip(_round_half_away(img.astype(np.float64) * (bins - 1)), 0, bins - 1).astype(np.int64)
    ext = level[np.ix_(_reflect101(np.arange(ext_h), h), _reflect101(np.arange(ext_w), w))]
    tile_area = th * tw
    clip_limit = max(int(clip * float(tile_area) / bins), 1)
    lut_scale = top / _F32(tile_area)
    tile_of = (np.arange(ext_h) // th)[:, None] * tiles + (np.arange(ext_w) // tw)[None, :]
    hists = np.bincount((tile_of * bins + ext).ravel(), minlength=tiles * tiles * bins)
    hists = hists.reshape(tiles * tiles, bins).astype(np.int64)
    luts = np.zeros((tiles * tiles, bins), np.float32)
    for t in range(tiles * tiles):
        hist = hists[t]
        clipped = int(np.maximum(hist - clip_limit, 0).sum())
        hist = np.minimum(hist, clip_limit)
        batch = clipped // bins
        residual = clipped - batch * bins
        hist = hist + batch
        if residual:
            hist[np.arange(0, bins, max(bins // residual, 1))[:residual]] += 1
        luts[t] = np.rint(np.cumsum(hist).astype(np.float32) * lut_scale)

    def neighbours(n, size):
        f = np.arange(n).astype(np.float32) * (_F32(1.0) / _F32(size)) - _F32(0.5)
        t1 = np.floor(f).astype(np.int64)
        a = f - t1.astype(np.float32)
        return np.maximum(t1, 0), np.minimum(t1 + 1, tiles - 1), a, _F32(1.0) - a

    ty1, ty2, ya, ya1 = neighbours(h, th)
    tx1, tx2, xa, xa1 = neighbours(w, tw)
    ya, ya1 = ya[:, None], ya1[:, None]
    pos = np.clip(img, _F32(0.0), _F32(1.0)) * top
    b0 = np.minimum(pos.astype(np.int64), bins - 2)
    f = pos - b0.astype(np.float32)

    def at(ty, tx):
        t = ty[:, None] * tiles + tx[None, :]
        lo = luts[t, b0]
        return lo + (luts[t, b0 + 1] - lo) * f

    v = (at(ty1, tx1) * xa1 + at(ty1, tx2) * xa) * ya1 + (at(ty2, tx1) * xa1 + at(ty2, tx2) * xa) * ya
    return v * (_F32(1.0) / top)

)PY",
                                   R"PY(
def unit_image(array, rescale_slope=1.0, rescale_intercept=0.0, monochrome1=False, bits_stored=None,
               signed=None, voi_window=None, voi_lut=None):
    """One decoded image as mhr's prepared-image cache holds it: RESOLUTION, float32, unit intensity scale,
    quantised to 16 bits (normalize and channels not applied). Arguments as for preprocess()."""
    spec = PREPROCESS
    raw = _Codes(array, rescale_slope, rescale_intercept, monochrome1, bits_stored, signed)
    window, table = spec["window"], None
    if spec["voi"]:
        window, table = _voi(voi_window, voi_lut)
    lut = raw.unit_lut(window, table)
    out_h, out_w = RESOLUTION

    # 1. intensity: without a window the map is affine, and mhr computes it in float32 rather than through
    # the table (the breast proxy always reads the table)
    affine = window is None and table is None and raw.range_max > raw.range_min
    if affine:
        scale = raw.slope / (raw.range_max - raw.range_min)
        offset = (raw.intercept - raw.range_min) / (raw.range_max - raw.range_min)
        if raw.invert:
            scale, offset = -scale, 1.0 - offset
        a, b = _F32(scale), _F32(offset)

    def unit(y, x, h, w):
        codes = raw.codes[y : y + h, x : x + w]
        return codes.astype(np.float32) * a + b if affine else lut[codes - raw.min]

    # 2. breast_crop on a point-sampled proxy (long side <= 512), the box widened by one proxy step per side
    src_h, src_w = raw.codes.shape
    region, flip = (0, 0, src_h, src_w), False
    if spec["breast_crop"]:
        step = max(1, (max(src_h, src_w) + 511) // 512)
        found = _find_breast(lut[raw.codes[::step, ::step] - raw.min], spec["crop_threshold"])
        if found is not None:
            (by, bx, bh, bw), chest_wall_right = found
            y0, x0 = max(0, (by - 1) * step), max(0, (bx - 1) * step)
            y1, x1 = min(src_h, (by + bh + 1) * step), min(src_w, (bx + bw + 1) * step)
            region = (y0, x0, y1 - y0, x1 - x0)
            flip = spec["crop_flip"] and chest_wall_right

    # 3. resize into the canvas (pad, crop or stretch), then the flip
    (sy, sx, sh, sw), (scaled_h, scaled_w), (oy, ox) = _place_region(spec["resize"], region[2], region[3],
                                                                     out_h, out_w)
    canvas = np.zeros((out_h, out_w), np.float32)
    canvas[oy : oy + scaled_h, ox : ox + scaled_w] = _resample(unit(region[0] + sy, region[1] + sx, sh, sw),
                                                               scaled_h, scaled_w)
    if flip:
        canvas = canvas[:, ::-1]

    # 4. clahe at the target resolution
    if spec["clahe"] is not None:
        canvas = _clahe(canvas, spec["clahe"][0], spec["clahe"][1])

    # The cache stores 16-bit codes; training and evaluation read code / 65535.
    codes = _round_half_away(np.clip(canvas.astype(np.float64), 0.0, 1.0) * 65535.0)
    return np.ascontiguousarray(codes.astype(np.float32) * (_F32(1.0) / _F32(65535.0)))


def preprocess(array, rescale_slope=1.0, rescale_intercept=0.0, monochrome1=False, bits_stored=None,
               signed=None, voi_window=None, voi_lut=None):
    """One decoded image to the [1, IN_CHANNELS, H, W] float32 tensor mhr feeds this network.

    array: 2-D stored pixel codes (pydicom's pixel_array, cv2.imread(path, cv2.IMREAD_UNCHANGED)): uint8,
    uint16 or int16. rescale_slope/intercept: the modality LUT (RescaleSlope/RescaleIntercept).
    monochrome1: PhotometricInterpretation MONOCHROME1 (inverted so that larger is brighter). bits_stored,
    signed: the codes' nominal range (default: 8 bits for 1-byte arrays, else 16; signed for int arrays).
    voi_window=(center, width[, function]) or voi_lut=(first_mapped, bits, table): the file's VOI, needed
    only when PREPROCESS["voi"]. dicom_kwargs(ds) collects all of these from a pydicom dataset.
    """
    img = unit_image(array, rescale_slope, rescale_intercept, monochrome1, bits_stored, signed, voi_window,
                     voi_lut)
    if PREPROCESS["normalize"] is not None:
        mean, std = PREPROCESS["normalize"]
        img = ((img.astype(np.float64) - mean) * (1.0 / std)).astype(np.float32)
    x = torch.from_numpy(img).reshape(1, 1, *img.shape)
    # A grey image seen by an RGB network: (x, x, x), as mhr's batches do.
    return x.repeat(1, IN_CHANNELS, 1, 1) if IN_CHANNELS != 1 else x


def dicom_kwargs(ds):
    """preprocess()'s keyword arguments from a pydicom dataset: rescale, MONOCHROME1, BitsStored,
    PixelRepresentation, the first window (WindowCenter/WindowWidth/VOILUTFunction) and the first VOI LUT."""

    def number(name, default):
        value = getattr(ds, name, None)
        return default if value is None or value == "" else float(value)

    def first(value):
        try:
            return float(value)
        except TypeError:  # a multi-valued attribute: mhr uses the first window
            return float(value[0])

    kwargs = {
        "rescale_slope": number("RescaleSlope", 1.0),
        "rescale_intercept": number("RescaleIntercept", 0.0),
        "monochrome1": str(getattr(ds, "PhotometricInterpretation", "")).strip() == "MONOCHROME1",
        "bits_stored": int(ds.BitsStored),
        "signed": int(getattr(ds, "PixelRepresentation", 0)) == 1,
    }
    if getattr(ds, "WindowCenter", None) is not None and getattr(ds, "WindowWidth", None) is not None:
        kwargs["voi_window"] = (first(ds.WindowCenter), first(ds.WindowWidth),
                                str(getattr(ds, "VOILUTFunction", "") or "LINEAR"))
    sequence = getattr(ds, "VOILUTSequence", None)
    if sequence:
        item = sequence[0]
        entries, first_mapped, bits = (int(v) for v in item.LUTDescriptor)
        entries = entries or 65536
        if kwargs["signed"] and first_mapped >= 32768:
            first_mapped -= 65536
        data = item.LUTData
        table = np.frombuffer(data, "<u2") if isinstance(data, bytes) else np.asarray(data, np.int64)
        if table.size < entries:
            raise ValueError(f"VOI LUT has {table.size} entries, its descriptor says {entries}")
        kwargs["voi_lut"] = (first_mapped, bits, table[:entries])
    return kwargs
)PY"};

} // namespace

std::string generateModelPy(const ir::Graph& graph, const PythonModelInfo& info) {
  MHR_ASSERT(!graph.empty(), "generateModelPy: empty graph");
  MHR_ASSERT(info.height > 0 && info.width > 0, "generateModelPy: no resolution");
  const int64_t channels = graph.node(graph.inputId()).input.channels;
  std::string s = docstring(info, channels);
  s += kImports;
  s += "\n";
  s += constants(info, channels);
  s += kNetworkHelpers;
  s += "\n";
  s += modelClass(graph, info.networkName);
  s += "\n";
  s += kWeightsAndScores;
  for (const char* part : kPreprocess) s += part;
  return s;
}

} // namespace mhr::exporter
