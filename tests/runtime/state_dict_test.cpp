// Weight import/export against PyTorch itself: files written by Python's torch.save are read exactly, files
// we write load with torch.load(weights_only=True) and pass the safetensors format rules, errors name the
// parameter, and truncated or corrupted files give mhr::UserError, never a crash.
#include "runtime/state_dict.h"
#include "runtime/torch_pickle.h"
#include "runtime/zip_archive.h"
#include "support/error.h"
#include "support/files.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <random>
#include <sstream>

namespace mhr::runtime {
namespace {

struct SmallImpl : torch::nn::Module {
  SmallImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1)));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
    fc = register_module("fc", torch::nn::Linear(4, 2));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(Small);

class StateDictTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string failure;
    dir_ = test::cachedPythonFolder("make_state_dicts.py", "", &failure);
    ASSERT_FALSE(dir_.empty()) << failure;
    out_ = std::make_unique<test::TempDir>();
  }
  static void TearDownTestSuite() { out_.reset(); }
  // Python's files (shared, read-only) and this process's own outputs.
  static std::string file(const std::string& name) { return dir_ + "/" + name; }
  static std::string output(const std::string& name) { return out_->file(name); }
  static std::string bytesOf(const std::string& name) {
    auto b = support::readFile(file(name));
    EXPECT_TRUE(b.has_value()) << name;
    return b.value_or("");
  }

  // Compares every tensor against the raw bytes Python wrote next to the file.
  static void expectMatchesPython(const StateDict& sd, const std::string& group) {
    std::ifstream manifest(file("expect_" + group + "/manifest.txt"));
    ASSERT_TRUE(manifest.good());
    std::string line;
    size_t count = 0;
    while (std::getline(manifest, line)) {
      std::istringstream in(line);
      std::string name, dtype, shape;
      in >> name >> dtype >> shape;
      ++count;
      const torch::Tensor* t = sd.find(name);
      ASSERT_NE(t, nullptr) << name;
      EXPECT_EQ(dtypeName(t->scalar_type()), dtype) << name;
      std::string s = shapeString(t->sizes());
      std::string expectShape = "[";
      for (char c : shape) expectShape += c == ',' ? std::string(", ") : std::string(1, c);
      expectShape += "]";
      EXPECT_EQ(s, expectShape) << name;
      torch::Tensor c = t->contiguous();
      std::string got(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
      EXPECT_EQ(got, bytesOf("expect_" + group + "/" + name + ".bin")) << "values of " << name;
    }
    EXPECT_EQ(count, sd.size());
  }

  static std::string dir_;
  static std::unique_ptr<test::TempDir> out_;
};
std::string StateDictTest::dir_;
std::unique_ptr<test::TempDir> StateDictTest::out_;

TEST_F(StateDictTest, ReadsModelStateDictWrittenByTorchSave) {
  StateDict sd = readStateDict(file("small.pt"));
  std::vector<std::string> expected = {"conv.weight",
                                       "conv.bias",
                                       "bn.weight",
                                       "bn.bias",
                                       "bn.running_mean",
                                       "bn.running_var",
                                       "bn.num_batches_tracked",
                                       "fc.weight",
                                       "fc.bias"};
  EXPECT_EQ(sd.names(), expected); // PyTorch's order, module by module
  expectMatchesPython(sd, "small");
}

TEST_F(StateDictTest, ReadsEveryDtypeAndStorageLayout) {
  StateDict sd = readStateDict(file("zoo.pt"));
  expectMatchesPython(sd, "zoo");
  EXPECT_FALSE(sd.at("transposed").is_contiguous());
  EXPECT_EQ(sd.at("scalar").dim(), 0);
}

TEST_F(StateDictTest, FlattensNestedDictsAndRejectsNonTensors) {
  StateDict nested = readStateDict(file("nested.pt"));
  EXPECT_NE(nested.find("model.fc.weight"), nullptr);
  try {
    readStateDict(file("with_int.pt"));
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'epoch' is a int"), std::string::npos) << e.what();
  }
}

TEST_F(StateDictTest, RejectsLegacyAndTorchScriptFilesClearly) {
  try {
    readStateDict(file("legacy.pt"));
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("legacy torch.save format"), std::string::npos) << e.what();
  }
  try {
    readStateDict(file("script.pt"));
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("TorchScript"), std::string::npos) << e.what();
  }
  EXPECT_THROW(readStateDict(file("does-not-exist.pt")), UserError);
}

TEST_F(StateDictTest, WrittenFilesLoadInPythonExactly) {
  for (const std::string group : {"small", "zoo"}) {
    StateDict sd = readStateDict(file(group + ".pt"));
    writeStateDict(output(group + "_out.pt"), sd);
    writeStateDict(output(group + "_out.safetensors"), sd);
    auto r = test::runPython("check_written.py", file(group + ".pt") + " " + output(group + "_out.pt") + " " +
                                                     output(group + "_out.safetensors"));
    EXPECT_EQ(r.exitCode, 0) << group << ": " << r.output;
    // And back into C++: both written forms read to the same tensors.
    for (const std::string ext : {".pt", ".safetensors"}) {
      StateDict back = readStateDict(output(group + "_out" + ext));
      ASSERT_EQ(back.size(), sd.size());
      for (const std::string& n : sd.names()) {
        ASSERT_NE(back.find(n), nullptr) << n;
        EXPECT_EQ(back.at(n).scalar_type(), sd.at(n).scalar_type()) << n;
        EXPECT_TRUE(torch::equal(back.at(n), sd.at(n))) << n << ext;
      }
    }
  }
}

TEST_F(StateDictTest, LoadsIntoModuleAndChecksNames) {
  Small net;
  StateDict sd = readStateDict(file("small.pt"));
  loadStateDict(*net, sd, "small.pt");
  EXPECT_TRUE(torch::equal(net->fc->weight, sd.at("fc.weight")));
  EXPECT_TRUE(torch::equal(net->bn->running_var, sd.at("bn.running_var")));
  EXPECT_EQ(net->bn->num_batches_tracked.item<int64_t>(), 1);

  StateDict exported = moduleStateDict(*net);
  EXPECT_EQ(exported.names(), sd.names());
}

std::string loadError(torch::nn::Module& net, const StateDict& sd, LoadOptions options = {}) {
  try {
    loadStateDict(net, sd, "w.pt", options);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

// torchvision's densenet*.pth files use the pre-0.3 names (`denselayer1.norm.1.weight`); they load into
// today's names (`norm1`), and only where the network lacks the old name.
struct DenseLayerImpl : torch::nn::Module {
  DenseLayerImpl() {
    norm1 = register_module("norm1", torch::nn::BatchNorm2d(3));
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 2, 1).bias(false)));
    norm2 = register_module("norm2", torch::nn::BatchNorm2d(2));
  }
  torch::nn::BatchNorm2d norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr};
};
TORCH_MODULE(DenseLayer);
struct LegacyNetImpl : torch::nn::Module {
  LegacyNetImpl() { layer = register_module("denselayer1", DenseLayer()); }
  DenseLayer layer{nullptr};
};
TORCH_MODULE(LegacyNet);

TEST(StateDictLegacy, DenseNetNamesFromOldTorchvisionFilesLoad) {
  LegacyNet source, target;
  {
    torch::NoGradGuard g;
    for (auto& p : source->parameters()) p.uniform_(-1, 1);
  }
  StateDict modern = moduleStateDict(*source);
  StateDict legacy;
  for (const auto& n : modern.names()) {
    std::string old = n;
    for (const char* part : {"norm1", "norm2", "conv1"}) {
      size_t at = old.find(part);
      if (at != std::string::npos) old = old.substr(0, at + 4) + "." + old.substr(at + 4);
    }
    legacy.add(old, modern.at(n).clone());
  }
  ASSERT_TRUE(legacy.find("denselayer1.norm.1.weight") != nullptr);
  ASSERT_TRUE(legacy.find("denselayer1.conv.1.weight") != nullptr);
  loadStateDict(*target, legacy, "densenet-legacy.pth");
  for (const auto& n : modern.names())
    EXPECT_TRUE(torch::equal(moduleStateDict(*target).at(n), modern.at(n))) << n;

  // A legacy name whose modern form the network lacks is still reported as not in the network.
  legacy.add("denselayer1.norm.3.weight", torch::zeros({3}));
  std::string e = loadError(*target, legacy);
  EXPECT_NE(e.find("not in the network (1): 'denselayer1.norm.3.weight'"), std::string::npos) << e;
}

TEST(StateDictErrors, NameTheParameter) {
  Small net;
  StateDict good = moduleStateDict(*net);
  torch::Tensor before = net->fc->weight.clone();

  StateDict wrongShape;
  for (const auto& n : good.names())
    wrongShape.add(n, n == "fc.weight" ? torch::zeros({3, 4}) : good.at(n).clone());
  std::string e = loadError(*net, wrongShape);
  EXPECT_NE(e.find("'fc.weight' has shape [3, 4] in the file, the network expects [2, 4]"), std::string::npos)
      << e;

  StateDict wrongType;
  for (const auto& n : good.names())
    wrongType.add(n, n == "conv.bias" ? torch::zeros({4}, torch::kLong) : good.at(n).clone().fill_(0.25));
  e = loadError(*net, wrongType);
  EXPECT_NE(e.find("'conv.bias' is int64 in the file, the network expects float32"), std::string::npos) << e;
  EXPECT_TRUE(torch::equal(net->fc->weight, before)) << "a failed load must leave the module unchanged";

  StateDict missingAndExtra;
  for (const auto& n : good.names())
    if (n != "bn.weight") missingAndExtra.add(n, good.at(n).clone());
  missingAndExtra.add("head.weight", torch::zeros({1}));
  e = loadError(*net, missingAndExtra);
  EXPECT_NE(e.find("missing from the file (1): 'bn.weight'"), std::string::npos) << e;
  EXPECT_NE(e.find("not in the network (1): 'head.weight'"), std::string::npos) << e;
  LoadOptions lenient;
  lenient.strict = false;
  EXPECT_EQ(loadError(*net, missingAndExtra, lenient), "");

  StateDict nan;
  for (const auto& n : good.names()) nan.add(n, good.at(n).clone());
  nan.at("fc.bias")[0] = std::numeric_limits<float>::quiet_NaN();
  e = loadError(*net, nan);
  EXPECT_NE(e.find("'fc.bias' contains NaN or Inf"), std::string::npos) << e;

  StateDict half;
  for (const auto& n : good.names())
    half.add(n, good.at(n).is_floating_point() ? good.at(n).to(torch::kHalf) : good.at(n).clone());
  EXPECT_EQ(loadError(*net, half), "");
  LoadOptions noCast;
  noCast.castFloating = false;
  EXPECT_NE(loadError(*net, half, noCast).find("is float16 in the file"), std::string::npos);

  LoadOptions skipHead;
  skipHead.skip = {"fc."};
  StateDict noHead;
  for (const auto& n : good.names())
    if (n.rfind("fc.", 0) != 0) noHead.add(n, good.at(n).clone());
  EXPECT_EQ(loadError(*net, noHead, skipHead), "");
}

// ---- Hand-made pickles: what a hostile file could hold.
// ----------------------------------------------------------

std::string storageZip(const std::string& pickle,
                       const std::vector<std::pair<std::string, std::string>>& records) {
  ZipWriter zip;
  zip.add("archive/data.pkl", pickle);
  for (const auto& [k, v] : records) zip.add("archive/data/" + k, v);
  zip.add("archive/version", "3\n");
  return zip.finish();
}

std::string le32(int32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff);
  return s;
}
std::string str(const std::string& s) {
  return "X" + le32(static_cast<int32_t>(s.size())) + s;
}
std::string intOp(int32_t v) {
  return "J" + le32(v);
}

// {'w': _rebuild_tensor_v3(UntypedStorage(key '0', 8 bytes), 0, (2,), (1,), False, OrderedDict(),
// torch.float32)}
std::string v3Pickle(int32_t offset, int32_t size) {
  return std::string("\x80\x02}(") + str("w") + "ctorch._utils\n_rebuild_tensor_v3\n(" + "(" +
         str("storage") + "ctorch\nUntypedStorage\n" + str("0") + str("cpu") + intOp(8) + "tQ" +
         intOp(offset) + "(" + intOp(size) + "t(" + intOp(1) + "t\x89" + "ccollections\nOrderedDict\n)R" +
         "ctorch\nfloat32\ntRu.";
}

TEST(StateDictHostile, ReadsUntypedStorageWithDtype) {
  float values[2] = {1.5f, -2.0f};
  std::string bytes(reinterpret_cast<const char*>(values), 8);
  StateDict sd = parseTorchSave(storageZip(v3Pickle(0, 2), {{"0", bytes}}), "v3.pt");
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_EQ(sd.at("w").scalar_type(), torch::kFloat);
  EXPECT_FLOAT_EQ(sd.at("w")[1].item<float>(), -2.0f);
}

TEST(StateDictHostile, RefusesOutOfBoundsTensorsAndForeignGlobals) {
  std::string bytes(8, '\0');
  auto error = [](const std::string& zip) -> std::string {
    try {
      parseTorchSave(zip, "evil.pt");
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error(storageZip(v3Pickle(1, 2), {{"0", bytes}})).find("extends past its storage"),
            std::string::npos);
  EXPECT_NE(error(storageZip(v3Pickle(0, 3), {{"0", bytes}})).find("extends past its storage"),
            std::string::npos);
  EXPECT_NE(error(storageZip(v3Pickle(0, 2), {{"0", "short"}})).find("has 5 bytes"), std::string::npos);
  EXPECT_NE(error(storageZip(v3Pickle(0, 2), {})).find("'data/0' is missing"), std::string::npos);
  std::string system = std::string("\x80\x02") + "cos\nsystem\n" + str("echo pwned") + "\x85R.";
  EXPECT_NE(error(storageZip(system, {})).find("'os.system'"), std::string::npos);
  std::string selfNested = std::string("\x80\x02}q") + '\0' + str("x") + "h" + '\0' + "s.";
  EXPECT_NE(error(storageZip(selfNested, {})).find("nested more than 8 deep"), std::string::npos);
  EXPECT_NE(error(storageZip("\x80\x02}", {})).find("without STOP"), std::string::npos);
  EXPECT_NE(error(storageZip("\x80\x02\xff.", {})).find("unsupported pickle opcode 0xff"), std::string::npos);
  EXPECT_NE(error(storageZip("\x80\x02]", {})).find("without STOP"), std::string::npos);
  EXPECT_NE(error(storageZip("\x80\x02N.", {})).find("holds a None"), std::string::npos);
}

// Every truncation and many random corruptions of real files: an error or a successful parse, never a crash.
TEST_F(StateDictTest, TruncatedAndCorruptedFilesNeverCrash) {
  StateDict small = readStateDict(file("small.pt"));
  std::string files[] = {bytesOf("small.pt"), serializeSafetensors(small), bytesOf("zoo.pt")};
  std::mt19937 rng(12345);
  int rejected = 0, accepted = 0;
  for (const std::string& original : files) {
    auto attempt = [&](const std::string& bytes) {
      try {
        StateDict sd =
            bytes.compare(0, 2, "PK") == 0 ? parseTorchSave(bytes, "fuzz") : parseSafetensors(bytes, "fuzz");
        ++accepted;
      } catch (const UserError&) {
        ++rejected;
      }
    };
    for (size_t len = 0; len < original.size(); len += (len < 2048 ? 1 : 97)) {
      int before = rejected;
      attempt(original.substr(0, len));
      EXPECT_EQ(rejected, before + 1) << "a file truncated to " << len << " bytes was accepted";
    }
    for (int i = 0; i < 3000; ++i) {
      std::string bytes = original;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
      attempt(bytes);
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(accepted, 0); // flips in padding or in safetensors data bytes are harmless
}

TEST(Zip, RoundTripsAndDetectsCorruption) {
  ZipWriter w;
  w.add("a/x", "hello");
  w.add("a/y", std::string(1000, 'q'));
  std::string zip = w.finish();
  ZipReader r(zip, "t.zip");
  ASSERT_EQ(r.entries().size(), 2u);
  EXPECT_EQ(r.read(*r.find("a/x")), "hello");
  EXPECT_EQ(r.find("a/y")->dataOffset % 64, 0u);
  size_t at = zip.find("hello");
  zip[at] = 'j';
  ZipReader r2(zip, "t.zip");
  EXPECT_THROW(r2.read(*r2.find("a/x")), UserError);
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
}

} // namespace
} // namespace mhr::runtime
